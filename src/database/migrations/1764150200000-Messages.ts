import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What was sent and what happened to it. An email request holds the content
 * once; each recipient is one message row; every status a message enters is a
 * message_events row (the record of what happened). Idempotency keys remember
 * a request's answer for 24 hours.
 */
export class Messages1764150200000 implements MigrationInterface {
  name = 'Messages1764150200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE email_requests (
        id uuid PRIMARY KEY,
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        from_email varchar(254) NOT NULL,
        subject text NOT NULL,
        html text,
        text text,
        reply_to varchar(254),
        to_recipients jsonb NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        tag varchar(200),
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX email_requests_workspace_idx ON email_requests (workspace_id)`);
    await db.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY,
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        request_id uuid NOT NULL REFERENCES email_requests(id) ON DELETE CASCADE,
        recipient varchar(254) NOT NULL,
        type varchar(3) NOT NULL CHECK (type IN ('to', 'bcc')),
        from_email varchar(254) NOT NULL,
        contact_id uuid REFERENCES contacts(id) ON DELETE SET NULL,
        tag varchar(200),
        status varchar(16) NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        lease_until timestamptz,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(
      `CREATE INDEX messages_workspace_idx ON messages (workspace_id, created_at DESC, id DESC)`,
    );
    await db.query(
      `CREATE INDEX messages_workspace_status_idx ON messages (workspace_id, status, created_at DESC, id DESC)`,
    );
    await db.query(
      `CREATE INDEX messages_workspace_recipient_idx ON messages (workspace_id, recipient, created_at DESC, id DESC)`,
    );
    await db.query(
      `CREATE INDEX messages_workspace_tag_idx ON messages (workspace_id, tag, created_at DESC, id DESC) WHERE tag IS NOT NULL`,
    );
    await db.query(
      `CREATE INDEX messages_unfinished_idx ON messages (status, updated_at) WHERE status IN ('pending', 'deferred', 'sending')`,
    );
    await db.query(`CREATE INDEX messages_request_idx ON messages (request_id)`);
    await db.query(`
      CREATE TABLE message_events (
        id bigserial PRIMARY KEY,
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        type varchar(16) NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        detail jsonb NOT NULL DEFAULT '{}'
      )`);
    await db.query(`CREATE INDEX message_events_message_idx ON message_events (message_id, id)`);
    await db.query(`
      CREATE TABLE suppressions (
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        email varchar(254) NOT NULL,
        reason varchar(32) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, email)
      )`);
    await db.query(
      `CREATE INDEX suppressions_list_idx ON suppressions (workspace_id, created_at DESC, email DESC)`,
    );
    await db.query(`
      CREATE TABLE idempotency_keys (
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        key varchar(256) NOT NULL,
        request_hash bytea NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('in_progress', 'done')),
        response jsonb,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, key)
      )`);
    await db.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE idempotency_keys`);
    await db.query(`DROP TABLE suppressions`);
    await db.query(`DROP TABLE message_events`);
    await db.query(`DROP TABLE messages`);
    await db.query(`DROP TABLE email_requests`);
  }
}
