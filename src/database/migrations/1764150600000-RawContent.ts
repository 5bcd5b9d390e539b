import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A request submitted through the SMTP relay (SPEC §11) keeps the message as
 * the client wrote it, up to 10 MB: in a table of its own, so the hot queries
 * on email_requests never carry it; delivery reads it for one message at a time.
 */
export class RawContent1764150600000 implements MigrationInterface {
  name = 'RawContent1764150600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE email_raw_content (
         request_id uuid PRIMARY KEY REFERENCES email_requests (id) ON DELETE CASCADE,
         content bytea NOT NULL
       )`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE email_raw_content`);
  }
}
