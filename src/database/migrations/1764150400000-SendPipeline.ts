import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the send pipeline stores beyond a message's content: the door a
 * request came through and whether a test key sent it; a message's schedule
 * and a `scheduled` status; attachments, once per request, in a table of
 * their own (no hot query reads it); the workspace on each event (what the
 * webhooks outbox reads). The statuses a message may be in are checked by
 * the database too (MESSAGE_STATUSES, SPEC §8).
 */
export class SendPipeline1764150400000 implements MigrationInterface {
  name = 'SendPipeline1764150400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE email_requests
        ADD COLUMN source varchar(4) NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'smtp')),
        ADD COLUMN test boolean NOT NULL DEFAULT false`);
    await db.query(`ALTER TABLE messages ADD COLUMN scheduled_at timestamptz`);
    await db.query(`
      ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN (
        'scheduled', 'pending', 'sending', 'sent', 'deferred', 'bounced', 'failed', 'suppressed', 'canceled',
        'complained'))`);
    await db.query(
      `CREATE INDEX messages_scheduled_idx ON messages (scheduled_at) WHERE status = 'scheduled'`,
    );
    await db.query(`ALTER TABLE message_events ADD COLUMN workspace_id uuid`);
    await db.query(`
      UPDATE message_events e SET workspace_id = m.workspace_id FROM messages m WHERE m.id = e.message_id`);
    await db.query(`ALTER TABLE message_events ALTER COLUMN workspace_id SET NOT NULL`);
    await db.query(`
      CREATE TABLE email_attachments (
        request_id uuid NOT NULL REFERENCES email_requests(id) ON DELETE CASCADE,
        position smallint NOT NULL,
        filename varchar(255) NOT NULL,
        content_type varchar(255) NOT NULL,
        content_id varchar(255),
        size integer NOT NULL,
        content bytea NOT NULL,
        PRIMARY KEY (request_id, position)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE email_attachments`);
    await db.query(`ALTER TABLE message_events DROP COLUMN workspace_id`);
    await db.query(`DROP INDEX messages_scheduled_idx`);
    await db.query(`ALTER TABLE messages DROP CONSTRAINT messages_status_check`);
    await db.query(`ALTER TABLE messages DROP COLUMN scheduled_at`);
    await db.query(`ALTER TABLE email_requests DROP COLUMN source, DROP COLUMN test`);
  }
}
