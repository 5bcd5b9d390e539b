import { Injectable } from '@nestjs/common';
import { Sql, SqlRunner } from '../../database/sql';
import { type MessageStatus, SETTLED_STATUSES, TRANSITIONS } from './message-status';

/** An attachment as delivery needs it: its bytes, as stored once for the request. */
export interface StoredAttachment {
  filename: string;
  contentType: string;
  contentId: string | null;
  content: Buffer;
}

/** How long the bytes stay for a message that ended `failed` or `suppressed` and may still be retried. */
export const RETRYABLE_RETENTION_DAYS = 30;
/** Requests one pruning pass looks at; pruning repeats it until it has seen every request with bytes. */
const PRUNE_BATCH = 500;

const RETRYABLE: readonly MessageStatus[] = TRANSITIONS.retry.from;

/**
 * The bytes of `email_attachments` (the rows themselves, with names, types
 * and sizes, stay as long as their request) and of `email_raw_content` (a
 * message submitted through the SMTP relay, as the client wrote it): read
 * only to deliver a message whose request has them, and dropped (attachment
 * content set to NULL, the raw content deleted) once no message of the
 * request can be delivered again: every one is settled
 * (SETTLED_STATUSES), or failed or suppressed more than
 * RETRYABLE_RETENTION_DAYS ago. Dropping and retrying take the request's row
 * lock (retry shares it), so a retry never releases a message whose bytes
 * are being dropped.
 */
@Injectable()
export class AttachmentsRepository {
  constructor(private readonly sql: Sql) {}

  /** A request's attachments in order; throws when their bytes are no longer stored. */
  async contentOf(requestId: string): Promise<StoredAttachment[]> {
    const rows = await this.sql.rows<{
      filename: string;
      content_type: string;
      content_id: string | null;
      content: Buffer | null;
    }>(
      `SELECT filename, content_type, content_id, content FROM email_attachments
        WHERE request_id = $1 ORDER BY position`,
      [requestId],
      'attachments-content',
    );
    return rows.map((row) => {
      if (!row.content) throw new Error(`the attachments of request ${requestId} are no longer stored`);
      return {
        filename: row.filename,
        contentType: row.content_type,
        contentId: row.content_id,
        content: row.content,
      };
    });
  }

  /**
   * In a retry's transaction, before the message is released: holds the
   * request's row (so its bytes cannot be dropped until the retry commits)
   * and answers whether its attachments, if any, are all still stored.
   */
  async holdForRetry(tx: SqlRunner, requestId: string): Promise<boolean> {
    await tx.exec(`SELECT 1 FROM email_requests WHERE id = $1 FOR SHARE`, [requestId]);
    // A statement of its own, so it sees a drop that committed while the lock was awaited.
    const dropped = await tx.one(
      `SELECT 1 FROM email_attachments WHERE request_id = $1 AND content IS NULL
       UNION ALL
       SELECT 1 FROM email_requests r
        WHERE r.id = $1 AND r.source = 'smtp'
          AND NOT EXISTS (SELECT 1 FROM email_raw_content c WHERE c.request_id = r.id)
       LIMIT 1`,
      [requestId],
    );
    return dropped === null;
  }

  /**
   * Drops the bytes of those requests no message needs any more (see the
   * class); answers how many requests lost their bytes. The rows are locked
   * in id order (no deadlock between two calls) and checked by a later
   * statement, which sees what committed while the locks were awaited: of
   * two messages of one request that settle at once, the second to get here
   * sees both settled.
   */
  release(requestIds: string[]): Promise<number> {
    if (requestIds.length === 0) return Promise.resolve(0);
    return this.sql.transaction(async (tx) => {
      const held = await tx.rows<{ id: string }>(
        `SELECT id FROM email_requests WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`,
        [requestIds],
      );
      if (held.length === 0) return 0;
      const dropped = await tx.rows<{ request_id: string }>(
        `WITH unneeded AS (
           SELECT r.id FROM unnest($1::uuid[]) AS r(id)
            WHERE NOT EXISTS (
              SELECT 1 FROM messages m
               WHERE m.request_id = r.id AND m.status <> ALL($2::varchar[])
                 AND NOT (m.status = ANY($3::varchar[])
                          AND m.updated_at < now() - $4 * interval '1 day'))
         ), attachments AS (
           UPDATE email_attachments a SET content = NULL
             FROM unneeded u
            WHERE a.request_id = u.id AND a.content IS NOT NULL
           RETURNING a.request_id
         ), raw AS (
           DELETE FROM email_raw_content c USING unneeded u WHERE c.request_id = u.id
           RETURNING c.request_id
         )
         SELECT request_id FROM attachments UNION SELECT request_id FROM raw`,
        [held.map((r) => r.id), SETTLED_STATUSES, RETRYABLE, RETRYABLE_RETENTION_DAYS],
      );
      return dropped.length;
    });
  }

  /**
   * Goes through every request whose bytes are still stored, PRUNE_BATCH at
   * a time, and drops those no message needs any more; answers how many
   * requests lost their bytes. Safe to run in several processes at once.
   */
  async prune(): Promise<number> {
    let total = 0;
    let after: string | null = null;
    for (;;) {
      const batch: { request_id: string }[] = await this.sql.rows(
        `SELECT request_id FROM (
           SELECT request_id FROM email_attachments WHERE content IS NOT NULL
           UNION
           SELECT request_id FROM email_raw_content) stored
          WHERE $1::uuid IS NULL OR request_id > $1
          ORDER BY request_id LIMIT $2`,
        [after, PRUNE_BATCH],
      );
      total += await this.release(batch.map((r) => r.request_id));
      if (batch.length < PRUNE_BATCH) return total;
      after = batch[batch.length - 1].request_id;
    }
  }
}
