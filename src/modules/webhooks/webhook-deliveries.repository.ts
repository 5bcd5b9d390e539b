import { Injectable } from '@nestjs/common';
import { GroupCommit, isDataError } from '@app/common';
import { Sql, SqlRunner } from '../../database/sql';
import type { AttemptOutcome } from './dto/webhook.dto';
import { CLAIM, SETTLE } from './webhook-attempt-statements';

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

/** Most attempts one claim or settle statement takes, and most such statements at a time. */
const ATTEMPT_BATCH = { maxBatch: 64, maxConcurrent: 2 };

interface ClaimRequest {
  deliveryId: string;
  leaseMs: number;
}

interface SettleRequest {
  delivery: ClaimedDelivery;
  settlement: Settlement;
}

interface ClaimRow {
  i: string;
  interrupted: boolean;
  id: string | null;
  event_id: string;
  attempts: number;
  payload: string;
  url: string;
  secret: string;
}

/** One sweeper at a time across every process on the database (a transaction-scoped advisory lock). */
const SWEEP_LOCK = 'leadpush.webhooks.sweep';

/**
 * webhook_deliveries and webhook_attempts: deliveries created by the
 * dispatcher, claimed and settled by attempts (each recorded in
 * webhook_attempts), found again by the sweeper. The attempts in flight
 * (up to WEBHOOK_CONCURRENCY) claim together and settle together: one
 * statement each for all of them, instead of one per attempt.
 */
@Injectable()
export class WebhookDeliveriesRepository {
  /** Concurrent claims (one per attempt in flight) taken by one statement. */
  private readonly claims: GroupCommit<ClaimRequest, Claim>;
  /** Concurrent settlements recorded by one statement. */
  private readonly settles: GroupCommit<SettleRequest, boolean>;

  constructor(private readonly sql: Sql) {
    // A refused value (a malformed id, an error too long) is one attempt's fault: its batch is split
    // until it fails alone. Anything else (a lost connection, a timeout) fails the whole batch, as
    // it would have failed each statement.
    const options = { ...ATTEMPT_BATCH, isolate: isDataError };
    this.claims = new GroupCommit((requests) => this.claimAll(requests), options);
    this.settles = new GroupCommit((requests) => this.settleAll(requests), options);
  }

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

  /** Takes the delivery for its next attempt, for `leaseMs`, if anybody may attempt it now (see CLAIM). */
  claim(deliveryId: string, leaseMs: number): Promise<Claim> {
    return this.claims.submit({ deliveryId, leaseMs });
  }

  /** Records the attempt's outcome; false when the delivery was no longer this attempt's (nothing written). */
  settle(delivery: ClaimedDelivery, settlement: Settlement): Promise<boolean> {
    return this.settles.submit({ delivery, settlement });
  }

  private async claimAll(requests: ClaimRequest[]): Promise<Claim[]> {
    const rows = await this.sql.rows<ClaimRow>(
      CLAIM,
      [requests.map((r) => r.deliveryId), requests.map((r) => r.leaseMs), DUE_SLACK_MS],
      'webhook-claim-batch',
    );
    const claims: Claim[] = requests.map(() => ({ delivery: null, interrupted: false }));
    for (const row of rows) {
      claims[Number(row.i) - 1] = {
        interrupted: row.interrupted,
        delivery: row.id
          ? {
              id: row.id,
              eventId: row.event_id,
              attempt: row.attempts,
              payload: row.payload,
              url: row.url,
              sealedSecret: row.secret,
            }
          : null,
      };
    }
    return claims;
  }

  private async settleAll(requests: SettleRequest[]): Promise<boolean[]> {
    const column = <T>(pick: (r: SettleRequest) => T) => requests.map(pick);
    const rows = await this.sql.rows<{ i: string }>(
      SETTLE,
      [
        column((r) => r.delivery.id),
        column((r) => r.delivery.attempt),
        column((r) => STATUS_AFTER[r.settlement.outcome]),
        column((r) => r.settlement.outcome),
        column((r) => r.settlement.statusCode),
        column((r) => r.settlement.error),
        column((r) => r.settlement.at),
        column((r) => r.settlement.nextAttemptAt),
      ],
      'webhook-settle-batch',
    );
    const recorded = new Set(rows.map((row) => Number(row.i) - 1));
    return requests.map((_, i) => recorded.has(i));
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
