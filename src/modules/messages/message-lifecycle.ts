import { Injectable } from '@nestjs/common';
import { Sql, SqlRunner } from '../../database/sql';
import { SuppressionReason, SuppressionsService } from '../suppressions/suppressions.service';
import { LifecycleWrites, Moved, toEvent } from './lifecycle-writes';
import { MessageEventFeed } from './message-event-feed';
import type { MessageContent } from './messages.repository';
import {
  type MessageEventType,
  type MessageStatus,
  type RecipientType,
  TRANSITIONS,
  type TransitionName,
} from './message-status';

/** What a transition recorded: the event, as `GET /v1/messages/:uuid` shows it. */
export interface MessageEvent {
  type: MessageEventType;
  at: Date;
  detail: Record<string, unknown>;
}

/** One delivery attempt of a message: the transitions that end an attempt act only while it holds the message. */
export interface Attempt {
  messageId: string;
  attempt: number;
}

/** A claimed message with everything needed to deliver it. */
export interface DeliverableMessage extends Attempt, MessageContent {
  workspaceId: string;
  requestId: string;
  /** How many attachments the request has; their bytes are read (AttachmentsRepository) only when there are some. */
  attachmentCount: number;
  recipient: string;
  type: RecipientType;
  fromEmail: string;
}

/** The message a report is about, in the workspace that sent it: a transition acts on nothing else. */
export interface ReportTarget {
  messageId: string;
  workspaceId: string;
}

/** What a claim did: took the message for an attempt, or gave it up because its last attempt was cut short. */
export type Claim =
  | { kind: 'claimed'; message: DeliverableMessage; event: MessageEvent }
  | { kind: 'abandoned'; event: MessageEvent };

/** Which message a transition acts on: `attempt` ties it to one delivery attempt, `workspaceId` to one workspace. */
interface Target {
  messageId: string;
  attempt?: number;
  workspaceId?: string;
}

/** The transitions that enter a status (all but `recordDelay`). */
type MoveName = Exclude<TransitionName, 'recordDelay'>;

const sources = (name: TransitionName): readonly MessageStatus[] => TRANSITIONS[name].from;

/** One releaser at a time across every process on the database (a transaction-scoped advisory lock). */
const RELEASE_LOCK = 'leadpush.delivery.release';

/**
 * Releases up to `$2` scheduled messages whose time has come, earliest first
 * (one range scan of `messages_scheduled_idx`), each with its `pending`
 * event. Rows a cancel or reschedule holds are skipped until the next pass;
 * the outer guard re-checks the status, so a message canceled meanwhile stays canceled.
 */
const RELEASE_DUE = `
  WITH due AS (
    SELECT id FROM messages
     WHERE status = 'scheduled' AND scheduled_at <= now()
     ORDER BY scheduled_at
     LIMIT $2
     FOR UPDATE SKIP LOCKED
  ), moved AS (
    UPDATE messages m SET status = $1, updated_at = now()
      FROM due
     WHERE m.id = due.id AND m.status = ANY($3::varchar[])
    RETURNING m.id, m.workspace_id
  ), ev AS (
    INSERT INTO message_events (message_id, workspace_id, type) SELECT id, workspace_id, $1 FROM moved
  )
  SELECT id FROM moved`;

/** A new time for a scheduled message: `scheduled` again, with an event that says so. */
const RESCHEDULE = `
  WITH moved AS (
    UPDATE messages SET status = $3, scheduled_at = $5, updated_at = now()
     WHERE id = $1 AND workspace_id = $2 AND status = ANY($4::varchar[])
    RETURNING id, workspace_id
  ), ev AS (
    INSERT INTO message_events (message_id, workspace_id, type, detail)
    SELECT id, workspace_id, $3, jsonb_build_object('scheduled_at', $6::text, 'rescheduled', true)
      FROM moved
    RETURNING type, at, detail
  )
  SELECT type, at, detail FROM ev`;

/** An event that changes no status, recorded while the message is in one of the transition's sources. */
const NOTE = `
  INSERT INTO message_events (message_id, workspace_id, type, detail)
  SELECT id, workspace_id, $2, $4 FROM messages
   WHERE id = $1 AND status = ANY($3::varchar[]) AND workspace_id = $5
  RETURNING type, at, detail`;

/**
 * The message lifecycle (SPEC §8): the named transitions of TRANSITIONS, each
 * guarding its source statuses in its UPDATE and answering the event it
 * wrote, or null when the message was not in a source status (or no longer
 * this attempt's). `message_events` is the one record of what happened; each
 * event written is also told to the MessageEventFeed (see `written`).
 * Claims, lease renewals and transitions made outside a caller's transaction
 * are written together with those of concurrent callers (LifecycleWrites).
 */
@Injectable()
export class MessageLifecycle {
  private readonly writes: LifecycleWrites;

  constructor(
    private readonly sql: Sql,
    private readonly suppressions: SuppressionsService,
    private readonly feed: MessageEventFeed,
  ) {
    this.writes = new LifecycleWrites(sql);
  }

  /**
   * Takes a message for its next attempt: pending, deferred and due, or
   * sending with an expired lease (`recovered`); a lease that expired on the
   * `maxAttempts`-th attempt ends it `failed` instead (`abandoned`). Null
   * when nobody may take it now.
   */
  async claim(messageId: string, leaseMs: number, maxAttempts: number): Promise<Claim | null> {
    const claim = await this.writes.claim({ messageId, leaseMs, maxAttempts });
    if (claim) this.written(claim.event);
    return claim;
  }

  /** Extends an attempt's lease; answers false when the message is no longer that attempt's. */
  renewLease({ messageId, attempt }: Attempt, leaseMs: number): Promise<boolean> {
    return this.writes.renew({ messageId, attempt, leaseMs });
  }

  markSent(attempt: Attempt, detail: Record<string, unknown>): Promise<MessageEvent | null> {
    return this.enter('markSent', attempt, detail);
  }

  /** Back to the queue's care: the attempt failed for now; the next may start at `nextAttemptAt`. */
  defer(
    attempt: Attempt,
    detail: Record<string, unknown>,
    nextAttemptAt: Date,
  ): Promise<MessageEvent | null> {
    return this.enter('defer', attempt, detail, { nextAttemptAt });
  }

  fail(attempt: Attempt, detail: Record<string, unknown>): Promise<MessageEvent | null> {
    return this.enter('fail', attempt, detail);
  }

  /** The recipient is on the suppression list: nothing is sent. */
  suppress(attempt: Attempt, detail: Record<string, unknown>): Promise<MessageEvent | null> {
    return this.enter('suppress', attempt, detail);
  }

  /**
   * Refused for good by the relay during an attempt. With `suppress`, the
   * recipient joins the workspace's suppression list (`hard_bounce`) in the
   * same transaction.
   */
  bounce(
    attempt: Attempt,
    detail: Record<string, unknown>,
    { suppress = false }: { suppress?: boolean } = {},
  ): Promise<MessageEvent | null> {
    return this.enterSuppressing('bounce', attempt, detail, suppress ? 'hard_bounce' : null);
  }

  /**
   * Refused for good by a report that arrived after the relay's 250 (SPEC
   * §13), for the message in `workspaceId` only; `suppress` as for bounce;
   * in the caller's transaction when given one (the report's, so its outcome
   * and the bounce commit together).
   */
  reportBounce(
    target: ReportTarget,
    detail: Record<string, unknown>,
    { suppress = false }: { suppress?: boolean } = {},
    db?: SqlRunner,
  ): Promise<MessageEvent | null> {
    return this.enterSuppressing('reportBounce', target, detail, suppress ? 'hard_bounce' : null, db);
  }

  /**
   * A complaint about a sent message (a report, or a test key's simulation);
   * with `suppress`, the recipient joins the list (`complaint`) with it; in
   * the caller's transaction when given one.
   */
  complain(
    target: ReportTarget | { messageId: string },
    detail: Record<string, unknown>,
    { suppress = false }: { suppress?: boolean } = {},
    db?: SqlRunner,
  ): Promise<MessageEvent | null> {
    return this.enterSuppressing('complain', target, detail, suppress ? 'complaint' : null, db);
  }

  /** A scheduled message whose time has come: handed to delivery. */
  release(messageId: string): Promise<MessageEvent | null> {
    return this.enter('release', { messageId }, {});
  }

  /**
   * Releases the scheduled messages that are due, at most `limit`, as the
   * only releaser: answers their ids (to queue), or null without looking
   * when another process is releasing.
   */
  async releaseDue(limit: number): Promise<string[] | null> {
    const released = await this.sql.transaction(async (tx) => {
      const lock = await tx.one<{ locked: boolean }>(
        `SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`,
        [RELEASE_LOCK],
      );
      if (!lock?.locked) return null;
      const rows = await tx.rows<{ id: string }>(
        RELEASE_DUE,
        [TRANSITIONS.release.to, limit, sources('release')],
        'lifecycle-release-due',
      );
      return rows.map((row) => row.id);
    });
    if (released) this.feed.recorded(TRANSITIONS.release.to, released.length);
    return released;
  }

  /** A scheduled message's new time: one conditional UPDATE, like cancel. */
  async reschedule(workspaceId: string, messageId: string, scheduledAt: Date): Promise<MessageEvent | null> {
    const row = await this.sql.one<Record<string, unknown>>(
      RESCHEDULE,
      [
        messageId,
        workspaceId,
        TRANSITIONS.reschedule.to,
        sources('reschedule'),
        scheduledAt,
        scheduledAt.toISOString(),
      ],
      'lifecycle-reschedule',
    );
    return row ? this.written(toEvent(row)) : null;
  }

  /** One conditional UPDATE, so it can never race a release into both canceling and sending. */
  cancel(workspaceId: string, messageId: string): Promise<MessageEvent | null> {
    return this.enter('cancel', { messageId, workspaceId }, {});
  }

  /**
   * Releases a suppressed or failed message: `pending` again, with its
   * attempt count restarted (DELIVERY_MAX_ATTEMPTS applies afresh) and its
   * events kept; in the caller's transaction when given one.
   */
  retry(workspaceId: string, messageId: string, db?: SqlRunner): Promise<MessageEvent | null> {
    return this.enter('retry', { messageId, workspaceId }, { retry: true }, { restart: true }, db);
  }

  /** A delay report: a `delayed` event, the status unchanged; in the caller's transaction when given one. */
  async recordDelay(
    { messageId, workspaceId }: ReportTarget,
    detail: Record<string, unknown>,
    db: SqlRunner = this.sql,
  ): Promise<MessageEvent | null> {
    const row = await db.one<Record<string, unknown>>(
      NOTE,
      [messageId, 'delayed', sources('recordDelay'), JSON.stringify(detail), workspaceId],
      'lifecycle-note',
    );
    return row ? this.written(toEvent(row), db) : null;
  }

  /** Whether an attempt ended in `status` (a write whose answer was lost may have committed). */
  async endedAs({ messageId, attempt }: Attempt, status: MessageStatus): Promise<boolean> {
    const row = await this.sql.one(`SELECT 1 FROM messages WHERE id = $1 AND attempts = $2 AND status = $3`, [
      messageId,
      attempt,
      status,
    ]);
    return row !== null;
  }

  private async enter(
    name: MoveName,
    target: Target,
    detail: Record<string, unknown>,
    options: { nextAttemptAt?: Date; restart?: boolean } = {},
    db?: SqlRunner,
  ): Promise<MessageEvent | null> {
    const moved = await this.move(name, target, detail, options, db);
    return moved ? this.written(moved.event, db) : null;
  }

  /**
   * Bounce or complaint, and the suppression it may bring: each module writes
   * its own table, in one transaction (the caller's when given `db`).
   */
  private async enterSuppressing(
    name: 'bounce' | 'reportBounce' | 'complain',
    target: Target,
    detail: Record<string, unknown>,
    reason: SuppressionReason | null,
    db?: SqlRunner,
  ): Promise<MessageEvent | null> {
    if (!reason) return this.enter(name, target, detail, {}, db);
    const suppressing = async (tx: SqlRunner) => {
      const moved = await this.move(name, target, detail, {}, tx);
      if (moved) await this.suppressions.add(moved.workspaceId, moved.recipient, reason, tx);
      return moved?.event ?? null;
    };
    const event = db ? await suppressing(db) : await this.sql.transaction(suppressing);
    return event ? this.written(event, db) : null;
  }

  /**
   * The one place an event this class wrote is told to the feed: once it is
   * committed, so a caller's transaction that rolls back counts nothing.
   */
  private written(event: MessageEvent, db: SqlRunner = this.sql): MessageEvent {
    db.afterCommit(() => this.feed.recorded(event.type));
    return event;
  }

  /** In the caller's transaction when given `db`; else written with the concurrent moves of other callers. */
  private move(
    name: MoveName,
    { messageId, attempt, workspaceId }: Target,
    detail: Record<string, unknown>,
    { nextAttemptAt, restart = false }: { nextAttemptAt?: Date; restart?: boolean },
    db?: SqlRunner,
  ): Promise<Moved | null> {
    const move = {
      messageId,
      to: TRANSITIONS[name].to,
      from: sources(name),
      attempt: attempt ?? null,
      workspaceId: workspaceId ?? null,
      nextAttemptAt: nextAttemptAt ?? null,
      restart,
      detail,
    };
    return this.writes.move(move, db);
  }
}
