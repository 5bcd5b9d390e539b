import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks (SPEC §12). message_events becomes an outbox: each event records
 * the transaction that inserted it (`xid`), so the dispatcher can read, in
 * (xid, id) order, exactly the events whose transaction has ended (see
 * MessageEventsOutbox). Events stored before this migration carry xid 0 and
 * the dispatch cursor starts after them: no endpoint existed when they
 * happened. Endpoints keep their signing secret sealed (sealSecret); each
 * delivery is one event for one endpoint, with the body it is posted with on
 * every attempt; each attempt is one webhook_attempts row.
 */
export class Webhooks1764160000000 implements MigrationInterface {
  name = 'Webhooks1764160000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE message_events ADD COLUMN xid xid8 NOT NULL DEFAULT '0'`);
    await db.query(`ALTER TABLE message_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id()`);
    await db.query(`CREATE INDEX message_events_outbox_idx ON message_events (xid, id)`);
    await db.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        url varchar(2048) NOT NULL,
        events text[] NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        secret text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(
      `CREATE INDEX webhook_endpoints_workspace_idx ON webhook_endpoints (workspace_id, created_at DESC, id DESC)`,
    );
    await db.query(`
      CREATE TABLE webhook_dispatch_cursor (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        xid xid8 NOT NULL,
        event_id bigint NOT NULL
      )`);
    await db.query(`
      INSERT INTO webhook_dispatch_cursor (xid, event_id)
      SELECT '0', coalesce(max(id), 0) FROM message_events`);
    await db.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        event_id bigint NOT NULL,
        type varchar(32) NOT NULL,
        payload text NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'sending', 'succeeded', 'gave_up', 'disabled')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz(3) NOT NULL DEFAULT now(),
        lease_until timestamptz,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        UNIQUE (endpoint_id, event_id)
      )`);
    await db.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending'`,
    );
    await db.query(
      `CREATE INDEX webhook_deliveries_leased_idx ON webhook_deliveries (lease_until, id) WHERE status = 'sending'`,
    );
    await db.query(`
      CREATE TABLE webhook_attempts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        outcome varchar(16) NOT NULL CHECK (outcome IN ('success', 'failure', 'gave_up', 'disabled')),
        status_code integer,
        error varchar(200),
        at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
        next_attempt_at timestamptz(3),
        UNIQUE (delivery_id, attempt)
      )`);
    await db.query(
      `CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, at DESC, id DESC)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE webhook_attempts`);
    await db.query(`DROP TABLE webhook_deliveries`);
    await db.query(`DROP TABLE webhook_dispatch_cursor`);
    await db.query(`DROP TABLE webhook_endpoints`);
    await db.query(`DROP INDEX message_events_outbox_idx`);
    await db.query(`ALTER TABLE message_events DROP COLUMN xid`);
  }
}
