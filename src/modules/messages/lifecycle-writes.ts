import { GroupCommit, GroupCommitOptions, isDataError } from '@app/common';
import type { SqlRunner } from '../../database/sql';
import type { Claim, MessageEvent } from './message-lifecycle';
import { type MessageEventType, type MessageStatus, type RecipientType, TRANSITIONS } from './message-status';

/** A claim asked for (see CLAIM). */
export interface ClaimRequest {
  messageId: string;
  leaseMs: number;
  maxAttempts: number;
}

/** One message's transition as MOVE writes it: `attempt` and `workspaceId` guard it when given. */
export interface Move {
  messageId: string;
  to: MessageStatus;
  from: readonly MessageStatus[];
  attempt: number | null;
  workspaceId: string | null;
  nextAttemptAt: Date | null;
  /** Restart the attempt count (a retry). */
  restart: boolean;
  detail: Record<string, unknown>;
}

export interface Moved {
  event: MessageEvent;
  workspaceId: string;
  recipient: string;
}

/** A lease to extend, while the attempt holds the message. */
export interface Renewal {
  messageId: string;
  attempt: number;
  leaseMs: number;
}

/**
 * Each statement below acts on many messages, one input row each, and
 * answers `n`, the input row's place (from 1), for each message it changed.
 * Each locks its messages in id order first, so that two of them (in two
 * processes) waiting for each other's rows cannot deadlock.
 *
 * They are not prepared statements: each run is planned for the table as it
 * is. A prepared statement's generic plan is made in its first runs on a
 * connection, for the table as it was then, and PostgreSQL keeps it until
 * the table's statistics change (ANALYZE, VACUUM). Made while `messages`
 * was nearly empty (a new install, a worker started before the first
 * sends), it read the whole table on every claim and transition once the
 * table had grown, and without autovacuum nothing ever replaced it.
 * Planning costs PostgreSQL 0.2 to 0.35 ms per statement (bench/README.md).
 */

/**
 * Takes messages for an attempt (SPEC §8): pending, deferred and due, or
 * sending with an expired lease (its worker died; the event says `recovered`,
 * since the earlier attempt may have reached the server). A lease that expired
 * on the `max_attempts`-th attempt ends the message `failed` instead
 * (`abandoned`). A message nobody may take now answers no row. Which of the
 * two happens is decided on each row once it is locked (`prev`), and one
 * UPDATE does both, which plans in half the time of an UPDATE for each.
 */
export const CLAIM = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[]) WITH ORDINALITY AS i(id, lease_ms, max_attempts, n)
  ), prev AS (
    SELECT m.id, m.status, i.lease_ms, i.n,
           m.status = 'sending' AND m.status = ANY($5::varchar[])
             AND m.lease_until < now() AND m.attempts >= i.max_attempts AS abandon,
           m.status = ANY($4::varchar[])
             AND (m.status <> 'deferred' OR m.next_attempt_at <= now() + interval '1 second')
             AND (m.status <> 'sending' OR (m.lease_until < now() AND m.attempts < i.max_attempts)) AS take
      FROM messages m JOIN input i ON i.id = m.id
     WHERE m.id = ANY($1::uuid[])
     ORDER BY m.id
       FOR UPDATE OF m
  ), taken AS (
    UPDATE messages m
       SET status = CASE WHEN prev.abandon THEN 'failed' ELSE 'sending' END,
           attempts = CASE WHEN prev.abandon THEN m.attempts ELSE m.attempts + 1 END,
           updated_at = now(),
           lease_until = CASE WHEN prev.abandon THEN NULL
                              ELSE now() + prev.lease_ms * interval '1 millisecond' END,
           next_attempt_at = CASE WHEN prev.abandon THEN m.next_attempt_at END
      FROM prev
     WHERE m.id = prev.id AND m.id = ANY($1::uuid[]) AND (prev.abandon OR prev.take)
    RETURNING prev.n, prev.abandon, m.id, m.workspace_id, m.request_id, m.recipient, m.type, m.from_email,
              m.attempts, prev.status = 'sending' AS recovered
  ), ev AS (
    INSERT INTO message_events (message_id, workspace_id, type, detail)
    SELECT id, workspace_id,
           CASE WHEN abandon THEN 'failed' ELSE 'sending' END,
           CASE WHEN abandon
                THEN jsonb_build_object('attempt', attempts,
                                        'reason', 'the last attempt was cut short (its worker stopped) and none is left')
                WHEN recovered THEN jsonb_build_object('attempt', attempts, 'recovered', true)
                ELSE jsonb_build_object('attempt', attempts) END
      FROM taken
    RETURNING message_id, type, at, detail
  )
  SELECT t.n::int AS n, t.abandon AS abandoned,
         ev.type AS event_type, ev.at AS event_at, ev.detail AS event_detail,
         t.id, t.workspace_id, t.request_id, t.recipient, t.type, t.from_email, t.attempts,
         r.test, r.source, r.subject, r.html, r.text, r.reply_to, r.to_recipients, r.headers,
         r.attachment_count
    FROM ev
    JOIN taken t ON t.id = ev.message_id
    JOIN email_requests r ON r.id = t.request_id`;

/**
 * The transitions that enter a status: each message's UPDATE is guarded by
 * its transition's source statuses (and, when given, the attempt and the
 * workspace), and its event is inserted in the same statement, so the status
 * and the event log never disagree.
 */
export const MOVE = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(
      n int, id uuid, status varchar, sources varchar[], attempt int, workspace_id uuid,
      next_attempt_at timestamptz, restart boolean, detail jsonb)
  ), locked AS (
    SELECT id FROM messages WHERE id = ANY($2::uuid[]) ORDER BY id FOR UPDATE
  ), moved AS (
    UPDATE messages m
       SET status = i.status, updated_at = now(), lease_until = NULL, next_attempt_at = i.next_attempt_at,
           attempts = CASE WHEN i.restart THEN 0 ELSE m.attempts END
      FROM locked l JOIN input i ON i.id = l.id
     WHERE m.id = l.id AND m.id = ANY($2::uuid[]) AND m.status = ANY(i.sources)
       AND (i.attempt IS NULL OR m.attempts = i.attempt)
       AND (i.workspace_id IS NULL OR m.workspace_id = i.workspace_id)
    RETURNING i.n, m.id, m.workspace_id, m.recipient, m.status, i.detail
  ), ev AS (
    INSERT INTO message_events (message_id, workspace_id, type, detail)
    SELECT id, workspace_id, status, detail FROM moved
    RETURNING message_id, type, at, detail
  )
  SELECT moved.n, ev.type, ev.at, ev.detail, moved.workspace_id, moved.recipient
    FROM ev JOIN moved ON moved.id = ev.message_id`;

/**
 * Extends the leases of attempts that still hold their messages. The rows
 * are found by id alone and their status tested once locked: with `status =
 * 'sending'` on the scan, the planner may walk messages_unfinished_idx's
 * 'sending' entries (dead ones included) instead of the primary key.
 */
export const RENEW = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[]) WITH ORDINALITY AS i(id, attempt, lease_ms, n)
  ), locked AS MATERIALIZED (
    SELECT id, status, attempts FROM messages WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
  )
  UPDATE messages m SET lease_until = now() + i.lease_ms * interval '1 millisecond'
    FROM locked l JOIN input i ON i.id = l.id
   WHERE m.id = l.id AND m.id = ANY($1::uuid[]) AND l.status = 'sending' AND l.attempts = i.attempt
  RETURNING i.n::int AS n`;

/**
 * Flushes at once, and messages per flush. Delivery claims, renews and ends
 * attempts for DELIVERY_CONCURRENCY messages at a time: while a flush is
 * running, what arrives waits for the next, so a busy worker pays one
 * statement (and one commit) for many messages, and an idle one waits for no
 * one. One flush at a time rather than two: at concurrency 50 the batches
 * grow by a quarter (8,000 deliveries: 803 moves against 1,084) and
 * PostgreSQL spends a tenth less CPU per message (bench/README.md, seventh round).
 */
const BATCH = { maxBatch: 64, maxConcurrent: 1 };

/** A committer's options: BATCH, bisected on a refused value, one item of a message at a time. */
function byMessage<I extends { messageId: string }>(): GroupCommitOptions<I> {
  return { ...BATCH, isolate: isDataError, key: (item) => item.messageId.toLowerCase() };
}

/**
 * The lifecycle's statements that delivery makes for every message, written
 * by group commit: concurrent claims are one CLAIM, concurrent transitions
 * one MOVE, concurrent renewals one RENEW, each caller answered for its own
 * message. A statement the database refuses for a value (class 22 or 23) is
 * bisected until the message at fault fails alone; any other failure (a lost
 * connection, a timeout, a deadlock) fails every caller of the flush. Items
 * of one message are written one at a time, in order.
 */
export class LifecycleWrites {
  private readonly claims: GroupCommit<ClaimRequest, Claim | null>;
  private readonly moves: GroupCommit<Move, Moved | null>;
  private readonly renewals: GroupCommit<Renewal, boolean>;

  constructor(private readonly sql: SqlRunner) {
    this.claims = new GroupCommit((items) => this.claimAll(items), byMessage());
    this.moves = new GroupCommit((items) => this.moveAll(this.sql, items), byMessage());
    this.renewals = new GroupCommit((items) => this.renewAll(items), byMessage());
  }

  claim(request: ClaimRequest): Promise<Claim | null> {
    return this.claims.submit(request);
  }

  /** In the caller's transaction when given `db`, alone; else with the moves of other callers. */
  async move(move: Move, db?: SqlRunner): Promise<Moved | null> {
    return db ? (await this.moveAll(db, [move]))[0] : this.moves.submit(move);
  }

  renew(renewal: Renewal): Promise<boolean> {
    return this.renewals.submit(renewal);
  }

  private async claimAll(requests: ClaimRequest[]): Promise<(Claim | null)[]> {
    const rows = await this.sql.rows<Record<string, unknown>>(CLAIM, [
      requests.map((r) => r.messageId),
      requests.map((r) => r.leaseMs),
      requests.map((r) => r.maxAttempts),
      TRANSITIONS.claim.from,
      TRANSITIONS.fail.from,
    ]);
    return answers(requests, rows, toClaim);
  }

  private async moveAll(db: SqlRunner, moves: Move[]): Promise<(Moved | null)[]> {
    const input = moves.map((m, i) => ({
      n: i + 1,
      id: m.messageId,
      status: m.to,
      sources: m.from,
      attempt: m.attempt,
      workspace_id: m.workspaceId,
      // toISOString throws for an invalid date (JSON would write it as null).
      next_attempt_at: m.nextAttemptAt?.toISOString() ?? null,
      restart: m.restart,
      detail: m.detail,
    }));
    const rows = await db.rows<Record<string, unknown>>(MOVE, [
      JSON.stringify(input),
      moves.map((m) => m.messageId),
    ]);
    return answers(moves, rows, (row) => ({
      event: toEvent(row),
      workspaceId: row.workspace_id as string,
      recipient: row.recipient as string,
    }));
  }

  private async renewAll(renewals: Renewal[]): Promise<boolean[]> {
    const rows = await this.sql.rows<{ n: number }>(RENEW, [
      renewals.map((r) => r.messageId),
      renewals.map((r) => r.attempt),
      renewals.map((r) => r.leaseMs),
    ]);
    const renewed = new Set(rows.map((row) => row.n));
    return renewals.map((_, i) => renewed.has(i + 1));
  }
}

/** One answer per item, in order: its row's (by `n`) mapped, or null when the statement answered none for it. */
function answers<I, R>(
  items: I[],
  rows: Record<string, unknown>[],
  map: (row: Record<string, unknown>) => R,
): (R | null)[] {
  const byPlace = new Map(rows.map((row) => [row.n as number, row]));
  return items.map((_, i) => {
    const row = byPlace.get(i + 1);
    return row ? map(row) : null;
  });
}

function toClaim(row: Record<string, unknown>): Claim {
  const event = toEvent({ type: row.event_type, at: row.event_at, detail: row.event_detail });
  if (row.abandoned) return { kind: 'abandoned', event };
  return {
    kind: 'claimed',
    event,
    message: {
      messageId: row.id as string,
      attempt: row.attempts as number,
      workspaceId: row.workspace_id as string,
      requestId: row.request_id as string,
      attachmentCount: row.attachment_count as number,
      recipient: row.recipient as string,
      type: row.type as RecipientType,
      fromEmail: row.from_email as string,
      test: row.test as boolean,
      source: row.source as 'api' | 'smtp',
      subject: row.subject as string,
      html: row.html as string | null,
      text: row.text as string | null,
      replyTo: row.reply_to as string | null,
      toRecipients: row.to_recipients as string[],
      headers: row.headers as Record<string, string>,
    },
  };
}

export function toEvent(row: Record<string, unknown>): MessageEvent {
  return {
    type: row.type as MessageEventType,
    at: new Date(row.at as string | Date),
    detail: row.detail as Record<string, unknown>,
  };
}
