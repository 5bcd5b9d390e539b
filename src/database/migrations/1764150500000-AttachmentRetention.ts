import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Attachments are read only for the messages that have some, and their bytes
 * are dropped once no message of the request can be delivered again: each
 * request counts its attachments (read by the claim, no extra query for a
 * message without any), an attachment's row outlives its bytes (the message
 * read still lists its name, type and size), and a partial index finds the
 * requests whose bytes are still stored.
 */
export class AttachmentRetention1764150500000 implements MigrationInterface {
  name = 'AttachmentRetention1764150500000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE email_requests ADD COLUMN attachment_count smallint NOT NULL DEFAULT 0`);
    await db.query(`
      UPDATE email_requests r SET attachment_count = a.n
        FROM (SELECT request_id, count(*) AS n FROM email_attachments GROUP BY request_id) a
       WHERE a.request_id = r.id`);
    await db.query(`ALTER TABLE email_attachments ALTER COLUMN content DROP NOT NULL`);
    await db.query(
      `CREATE INDEX email_attachments_stored_idx ON email_attachments (request_id) WHERE content IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX email_attachments_stored_idx`);
    await db.query(`DELETE FROM email_attachments WHERE content IS NULL`);
    await db.query(`ALTER TABLE email_attachments ALTER COLUMN content SET NOT NULL`);
    await db.query(`ALTER TABLE email_requests DROP COLUMN attachment_count`);
  }
}
