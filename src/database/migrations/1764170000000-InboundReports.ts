import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Mail received by the inbound listener (SPEC §13), stored before it is
 * answered 250 and processed from a queue: `raw` until it is processed (then
 * dropped), the outcome kept for a while after. Not workspace data: which
 * workspace a report concerns is known only once it is read.
 */
export class InboundReports1764170000000 implements MigrationInterface {
  name = 'InboundReports1764170000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE inbound_reports (
         id uuid PRIMARY KEY,
         received_at timestamptz NOT NULL DEFAULT now(),
         mail_from text NOT NULL,
         rcpt_to text[] NOT NULL,
         raw bytea,
         processed_at timestamptz,
         outcome varchar(16) CHECK (outcome IN ('applied', 'dropped')),
         detail jsonb
       )`,
    );
    await db.query(
      `CREATE INDEX inbound_reports_unprocessed_idx ON inbound_reports (received_at, id) WHERE processed_at IS NULL`,
    );
    await db.query(
      `CREATE INDEX inbound_reports_processed_idx ON inbound_reports (processed_at) WHERE processed_at IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE inbound_reports`);
  }
}
