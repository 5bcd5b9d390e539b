import { Injectable } from '@nestjs/common';
import { Sql } from '../../database/sql';

/** The statuses the sweeper looks at, in the order it looks. */
const STRANDED_STATUSES = ['sending', 'pending', 'deferred'] as const;
type StrandedStatus = (typeof STRANDED_STATUSES)[number];

export interface StrandedMessage {
  id: string;
  /** Its email request's id. */
  requestId: string;
  status: StrandedStatus;
  attempts: number;
}

/** One transaction-scoped advisory lock: one sweeper at a time across every process on the database. */
const SWEEP_LOCK = 'leadpush.delivery.sweep';

/**
 * For each status: which messages may have no queued job, and the column they
 * are read in order of, with id, so that each batch is one range scan of an
 * index (`messages_unfinished_idx`, `messages_deferred_due_idx`) after the
 * last row seen. `$4`, when used, is the grace in ms.
 */
const STRANDED: Record<StrandedStatus, { where: string; key: string; usesGrace: boolean }> = {
  sending: { where: `status = 'sending' AND lease_until < now()`, key: 'updated_at', usesGrace: false },
  pending: {
    where: `status = 'pending' AND updated_at < now() - $4 * interval '1 millisecond'`,
    key: 'updated_at',
    usesGrace: true,
  },
  deferred: {
    where: `status = 'deferred' AND next_attempt_at < now() - $4 * interval '1 millisecond'`,
    key: 'next_attempt_at',
    usesGrace: true,
  },
};

/** The sweeper's reads: unfinished messages whose job may be missing. */
@Injectable()
export class StrandedMessagesRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Hands `visit` every unfinished message that may have no queued job
   * (sending with an expired lease, pending past a grace period, deferred and
   * overdue by it), in batches of `batchSize`, as the only sweeper: answers
   * false without looking when another process is sweeping.
   */
  async sweep(
    graceMs: number,
    batchSize: number,
    visit: (batch: StrandedMessage[]) => Promise<void>,
  ): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const lock = await tx.one<{ locked: boolean }>(
        `SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`,
        [SWEEP_LOCK],
      );
      if (!lock?.locked) return false;
      for (const status of STRANDED_STATUSES) {
        const { where, key, usesGrace } = STRANDED[status];
        let after: { cursor: string; id: string } | null = null;
        for (;;) {
          const rows: { id: string; request_id: string; attempts: number; cursor: string }[] = await tx.rows(
            `SELECT id, request_id, attempts, ${key}::text AS cursor FROM messages
              WHERE ${where}
                AND ($1::timestamptz IS NULL OR (${key}, id) > ($1::timestamptz, $2::uuid))
              ORDER BY ${key}, id
              LIMIT $3`,
            [after?.cursor ?? null, after?.id ?? null, batchSize, ...(usesGrace ? [graceMs] : [])],
          );
          if (rows.length > 0) {
            await visit(
              rows.map(({ id, request_id, attempts }) => ({ id, requestId: request_id, status, attempts })),
            );
          }
          if (rows.length < batchSize) break;
          after = rows[rows.length - 1];
        }
      }
      return true;
    });
  }
}
