import { Injectable } from '@nestjs/common';
import { Sql, SqlRunner } from '../../database/sql';
import type { AttemptOutcome } from './dto/webhook.dto';

/** A delivery to create: one event for one endpoint, with the body every attempt posts. */
export interface NewDelivery {
  endpointId: string;
  eventId: string;
  type: string;
  payload: string;
}

/** A delivery taken for an attempt, with what the attempt needs. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  attempt: number;
  payload: string;
  url: string;
  /** As stored: sealed (sealSecret). */
  sealedSecret: string;
}

export interface Claim {
  /** Null when nobody may attempt the delivery now (done, not due, held by a live attempt, endpoint disabled). */
  delivery: ClaimedDelivery | null;
  /** Whether the claim found the previous attempt cut short (its worker died) and recorded it as a failure. */
  interrupted: boolean;
}

/** What an attempt came to, as recorded. */
export interface Settlement {
  outcome: AttemptOutcome;
  statusCode: number | null;
  error: string | null;
  at: Date;
  nextAttemptAt: Date | null;
}

/** A delivery whose job may be missing, for the sweeper: due and pending, or held past its lease. */
export interface StrandedDelivery {
  id: string;
  status: 'pending' | 'sending';
  attempts: number;
}

/** The delivery's status after each outcome. */
const STATUS_AFTER: Record<AttemptOutcome, string> = {
  success: 'succeeded',
  failure: 'pending',
  gave_up: 'gave_up',
  disabled: 'disabled',
};

/** How early a queued attempt may start before its due time (Redis and PostgreSQL clocks, timers). */
const DUE_SLACK_MS = 200;

/**
 * Takes a delivery for one attempt, as one conditional statement, so two
 * workers never make the same attempt: pending and due, or sending with an
 * expired lease (its worker died: that attempt is recorded as an interrupted
 * failure, and the attempt count goes on). A delivery whose endpoint is
 * disabled meanwhile is dropped (`disabled`) instead.
 */
const CLAIM = `
  WITH prev AS (
    SELECT d.id, d.status, d.attempts, d.lease_until, d.next_attempt_at, d.endpoint_id, e.enabled
      FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
     WHERE d.id = $1 AND d.status IN ('pending', 'sending')
       FOR UPDATE OF d
  ), cut AS (
    INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, outcome, error)
    SELECT id, endpoint_id, attempts, 'failure', 'interrupted: the worker stopped during the attempt'
      FROM prev WHERE status = 'sending' AND lease_until < now()
    ON CONFLICT (delivery_id, attempt) DO NOTHING
    RETURNING delivery_id
  ), claimed AS (
    UPDATE webhook_deliveries d
       SET status = 'sending', attempts = d.attempts + 1, lease_until = now() + $2 * interval '1 millisecond'
      FROM prev
     WHERE d.id = prev.id AND prev.enabled
       AND ((prev.status = 'pending' AND prev.next_attempt_at <= now() + $3 * interval '1 millisecond')
         OR (prev.status = 'sending' AND prev.lease_until < now()))
    RETURNING d.id, d.event_id::text, d.attempts, d.payload, d.endpoint_id
  ), dropped AS (
    UPDATE webhook_deliveries d SET status = 'disabled', lease_until = NULL
      FROM prev WHERE d.id = prev.id AND NOT prev.enabled
  )
  SELECT (SELECT count(*)::int FROM cut) AS interrupted, c.id, c.event_id, c.attempts, c.payload,
         e.url, e.secret
    FROM (SELECT 1) one
    LEFT JOIN (claimed c JOIN webhook_endpoints e ON e.id = c.endpoint_id) ON true`;

/**
 * Records how attempt `$2` ended, only while the delivery is still that
 * attempt's (a lease that expired under a live attempt lets the next claim
 * win); a `disabled` outcome disables the endpoint in the same statement.
 */
const SETTLE = `
  WITH done AS (
    UPDATE webhook_deliveries
       SET status = $3, lease_until = NULL, next_attempt_at = coalesce($8, next_attempt_at)
     WHERE id = $1 AND status = 'sending' AND attempts = $2
    RETURNING id, endpoint_id
  ), attempt AS (
    INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, outcome, status_code, error, at, next_attempt_at)
    SELECT id, endpoint_id, $2, $4, $5, $6, $7, $8 FROM done
  ), off AS (
    UPDATE webhook_endpoints SET enabled = false, updated_at = now()
     WHERE $4 = 'disabled' AND id IN (SELECT endpoint_id FROM done)
  )
  SELECT id FROM done`;

/** One sweeper at a time across every process on the database (a transaction-scoped advisory lock). */
const SWEEP_LOCK = 'leadpush.webhooks.sweep';

/**
 * webhook_deliveries and webhook_attempts: deliveries created by the
 * dispatcher, claimed and settled by attempts (each recorded in
 * webhook_attempts), found again by the sweeper.
 */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(private readonly sql: Sql) {}

  /** Creates the deliveries in the caller's transaction (one per endpoint and event); answers their ids. */
  async insert(db: SqlRunner, deliveries: NewDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    const rows = await db.rows<{ id: string }>(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload)
       SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[])
       ON CONFLICT (endpoint_id, event_id) DO NOTHING
       RETURNING id`,
      [
        deliveries.map((d) => d.endpointId),
        deliveries.map((d) => d.eventId),
        deliveries.map((d) => d.type),
        deliveries.map((d) => d.payload),
      ],
      'webhook-deliveries-insert',
    );
    return rows.map((row) => row.id);
  }

  async claim(deliveryId: string, leaseMs: number): Promise<Claim> {
    const row = await this.sql.one<Record<string, unknown>>(
      CLAIM,
      [deliveryId, leaseMs, DUE_SLACK_MS],
      'webhook-claim',
    );
    const interrupted = Number(row?.interrupted ?? 0) > 0;
    if (!row?.id) return { delivery: null, interrupted };
    return {
      interrupted,
      delivery: {
        id: row.id as string,
        eventId: row.event_id as string,
        attempt: row.attempts as number,
        payload: row.payload as string,
        url: row.url as string,
        sealedSecret: row.secret as string,
      },
    };
  }

  /** Records the attempt's outcome; false when the delivery was no longer this attempt's (nothing written). */
  async settle(delivery: ClaimedDelivery, settlement: Settlement): Promise<boolean> {
    const row = await this.sql.one(
      SETTLE,
      [
        delivery.id,
        delivery.attempt,
        STATUS_AFTER[settlement.outcome],
        settlement.outcome,
        settlement.statusCode,
        settlement.error,
        settlement.at,
        settlement.nextAttemptAt,
      ],
      'webhook-settle',
    );
    return row !== null;
  }

  /**
   * Hands `visit` every delivery that may have no queued job — pending and
   * overdue by `graceMs`, or sending past its lease — in batches, as the only
   * sweeper: answers false without looking when another process is sweeping.
   */
  async sweep(
    graceMs: number,
    batchSize: number,
    visit: (batch: StrandedDelivery[]) => Promise<void>,
  ): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const lock = await tx.one<{ locked: boolean }>(
        `SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`,
        [SWEEP_LOCK],
      );
      if (!lock?.locked) return false;
      const kinds = [
        {
          status: 'pending',
          key: 'next_attempt_at',
          due: `next_attempt_at < now() - $4 * interval '1 millisecond'`,
        },
        { status: 'sending', key: 'lease_until', due: `lease_until < now()` },
      ] as const;
      for (const { status, key, due } of kinds) {
        const grace = status === 'pending' ? [graceMs] : [];
        let after: { cursor: string; id: string } | null = null;
        for (;;) {
          const rows: { id: string; attempts: number; cursor: string }[] = await tx.rows(
            `SELECT id, attempts, ${key}::text AS cursor FROM webhook_deliveries
              WHERE status = '${status}' AND ${due}
                AND ($1::timestamptz IS NULL OR (${key}, id) > ($1::timestamptz, $2::uuid))
              ORDER BY ${key}, id
              LIMIT $3`,
            [after?.cursor ?? null, after?.id ?? null, batchSize, ...grace],
          );
          if (rows.length > 0) await visit(rows.map(({ id, attempts }) => ({ id, status, attempts })));
          if (rows.length < batchSize) break;
          after = rows[rows.length - 1];
        }
      }
      return true;
    });
  }
}
