import { Injectable } from '@nestjs/common';
import { Sql } from '../../database/sql';
import type { MessageStatus, RecipientType } from './message-status';

export interface NewMessage {
  id: string;
  recipient: string;
  type: RecipientType;
  fromEmail: string;
  contactId: string | null;
}

/** An accepted request: its content once, one message per recipient, and its idempotency key's answer. */
export interface AcceptedRequest {
  id: string;
  workspaceId: string;
  fromEmail: string;
  subject: string;
  html: string | null;
  text: string | null;
  replyTo: string | null;
  toRecipients: string[];
  headers: Record<string, string>;
  tag: string | null;
  messages: NewMessage[];
  idempotency: { key: string; response: unknown } | null;
}

/** A claimed message with everything needed to deliver it. */
export interface DeliverableMessage {
  id: string;
  workspaceId: string;
  recipient: string;
  type: RecipientType;
  fromEmail: string;
  attempt: number;
  suppressed: boolean;
  subject: string;
  html: string | null;
  text: string | null;
  replyTo: string | null;
  toRecipients: string[];
  headers: Record<string, string>;
}

/** What a claim found: the message to deliver, or a message given up on because its last attempt was cut short. */
export type Claim = { kind: 'claimed'; message: DeliverableMessage } | { kind: 'abandoned' };

/**
 * The message state machine in SQL. Every statement that changes a message's
 * status inserts the matching event in the same statement, so the event log
 * and the status can never disagree.
 */
@Injectable()
export class MessagesRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Stores any number of accepted requests in one statement: each request's
   * content once, one `pending` message and event per recipient, and its
   * idempotency key marked done with its answer, so work and answer commit
   * together. A request with a key is stored only while it owns the key
   * (its id is the key's owner, still `in_progress`): one that lost its key to
   * a retry stores nothing. Answers the ids of the requests stored.
   *
   * Safe to repeat with the same requests (their ids were planned once) after
   * an error that may have hidden a commit: nothing is stored twice, no answer
   * is overwritten, and with `readBack` the ids stored are read back from the table.
   */
  async insertRequests(requests: AcceptedRequest[], readBack = false): Promise<Set<string>> {
    const messages = requests.flatMap((r) => r.messages.map((m) => ({ ...m, requestId: r.id })));
    const completed = await this.sql.rows<{ owner: string }>(
      `WITH owned AS (
         SELECT k.workspace_id, k.key, k.owner, i.response
           FROM unnest($2::uuid[], $17::text[], $1::uuid[], $18::text[]) AS i(workspace_id, key, owner, response)
           JOIN idempotency_keys k
             ON k.workspace_id = i.workspace_id AND k.key = i.key AND k.owner = i.owner AND k.status = 'in_progress'
            FOR UPDATE OF k
       ), req AS (
         INSERT INTO email_requests (id, workspace_id, from_email, subject, html, text, reply_to, to_recipients, headers, tag)
         SELECT id, workspace_id, from_email, subject, html, text, reply_to, to_recipients::jsonb, headers::jsonb, tag
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $17::text[])
                AS r(id, workspace_id, from_email, subject, html, text, reply_to, to_recipients, headers, tag, key)
          WHERE r.key IS NULL OR r.id IN (SELECT owner FROM owned)
         ON CONFLICT (id) DO NOTHING
         RETURNING id, workspace_id, tag, created_at
       ), msg AS (
         INSERT INTO messages (id, workspace_id, request_id, recipient, type, from_email, contact_id, tag, status, created_at, updated_at)
         SELECT m.id, req.workspace_id, req.id, m.recipient, m.type, m.from_email, m.contact_id, req.tag, 'pending', req.created_at, req.created_at
           FROM unnest($11::uuid[], $12::uuid[], $13::text[], $14::text[], $15::text[], $16::uuid[])
                AS m(id, request_id, recipient, type, from_email, contact_id)
           JOIN req ON req.id = m.request_id
         RETURNING id
       ), ev AS (
         INSERT INTO message_events (message_id, type) SELECT id, 'pending' FROM msg
       )
       UPDATE idempotency_keys k SET status = 'done', response = o.response::jsonb, updated_at = now()
         FROM owned o
        WHERE k.workspace_id = o.workspace_id AND k.key = o.key
       RETURNING k.owner`,
      [
        requests.map((r) => r.id),
        requests.map((r) => r.workspaceId),
        requests.map((r) => r.fromEmail),
        requests.map((r) => r.subject),
        requests.map((r) => r.html),
        requests.map((r) => r.text),
        requests.map((r) => r.replyTo),
        requests.map((r) => JSON.stringify(r.toRecipients)),
        requests.map((r) => JSON.stringify(r.headers)),
        requests.map((r) => r.tag),
        messages.map((m) => m.id),
        messages.map((m) => m.requestId),
        messages.map((m) => m.recipient),
        messages.map((m) => m.type),
        messages.map((m) => m.fromEmail),
        messages.map((m) => m.contactId),
        requests.map((r) => r.idempotency?.key ?? null),
        requests.map((r) => (r.idempotency ? JSON.stringify(r.idempotency.response) : null)),
      ],
      'insert-requests',
    );
    if (readBack) {
      const stored = await this.sql.rows<{ id: string }>(
        `SELECT id FROM email_requests WHERE id = ANY($1::uuid[])`,
        [requests.map((r) => r.id)],
      );
      return new Set(stored.map((r) => r.id));
    }
    const owners = new Set(completed.map((k) => k.owner));
    return new Set(requests.filter((r) => !r.idempotency || owners.has(r.id)).map((r) => r.id));
  }

  /**
   * Moves a message to `sending` if nobody else holds it: pending, deferred and
   * due, or sending with an expired lease (its worker died; the event says
   * `recovered`, since the earlier attempt may have reached the server). A job
   * that runs twice finds nothing to claim the second time. A message whose
   * lease expired on its `maxAttempts`-th attempt is not retried again: it
   * ends `failed` (a message that kills its worker would otherwise be retried forever).
   */
  async claim(messageId: string, leaseMs: number, maxAttempts: number): Promise<Claim | null> {
    const row = await this.sql.one<Record<string, unknown>>(
      `WITH prev AS (
         SELECT id, status FROM messages WHERE id = $1 FOR UPDATE
       ), abandoned AS (
         UPDATE messages m SET status = 'failed', updated_at = now(), lease_until = NULL
           FROM prev
          WHERE m.id = prev.id AND m.status = 'sending' AND m.lease_until < now() AND m.attempts >= $3
         RETURNING m.id, m.attempts
       ), claimed AS (
         UPDATE messages m
            SET status = 'sending', attempts = m.attempts + 1, updated_at = now(),
                lease_until = now() + $2 * interval '1 millisecond', next_attempt_at = NULL
           FROM prev
          WHERE m.id = prev.id
            AND (m.status = 'pending'
                 OR (m.status = 'deferred' AND m.next_attempt_at <= now() + interval '1 second')
                 OR (m.status = 'sending' AND m.lease_until < now() AND m.attempts < $3))
         RETURNING m.id, m.workspace_id, m.request_id, m.recipient, m.type, m.from_email, m.attempts,
                   prev.status = 'sending' AS recovered
       ), ev AS (
         INSERT INTO message_events (message_id, type, detail)
         SELECT id, 'sending',
                CASE WHEN recovered THEN jsonb_build_object('attempt', attempts, 'recovered', true)
                     ELSE jsonb_build_object('attempt', attempts) END
           FROM claimed
         UNION ALL
         SELECT id, 'failed',
                jsonb_build_object('attempt', attempts,
                                   'reason', 'the last attempt was cut short (its worker stopped) and none is left')
           FROM abandoned
       )
       SELECT EXISTS (SELECT 1 FROM abandoned) AS abandoned, c.*, r.subject, r.html, r.text,
              r.reply_to, r.to_recipients, r.headers,
              EXISTS (SELECT 1 FROM suppressions s WHERE s.workspace_id = c.workspace_id AND s.email = c.recipient) AS suppressed
         FROM (SELECT 1) one
         LEFT JOIN (claimed c JOIN email_requests r ON r.id = c.request_id) ON true`,
      [messageId, leaseMs, maxAttempts],
    );
    if (row?.abandoned) return { kind: 'abandoned' };
    if (!row?.id) return null;
    return {
      kind: 'claimed',
      message: {
        id: row.id as string,
        workspaceId: row.workspace_id as string,
        recipient: row.recipient as string,
        type: row.type as RecipientType,
        fromEmail: row.from_email as string,
        attempt: row.attempts as number,
        suppressed: row.suppressed as boolean,
        subject: row.subject as string,
        html: row.html as string | null,
        text: row.text as string | null,
        replyTo: row.reply_to as string | null,
        toRecipients: row.to_recipients as string[],
        headers: row.headers as Record<string, string>,
      },
    };
  }

  /** Extends the lease of attempt `attempt`; answers false when the message is no longer that attempt's. */
  async renewLease(messageId: string, attempt: number, leaseMs: number): Promise<boolean> {
    const renewed = await this.sql.exec(
      `UPDATE messages SET lease_until = now() + $3 * interval '1 millisecond'
        WHERE id = $1 AND status = 'sending' AND attempts = $2`,
      [messageId, attempt, leaseMs],
    );
    return renewed > 0;
  }

  /**
   * Ends the attempt `attempt` of a message in `status`, recording the event
   * and, with `suppress`, adding the recipient to its workspace's suppression
   * list, all in one statement. Answers false when the message is no longer
   * this attempt's (its lease ran out and another worker claimed it).
   */
  async finishAttempt(
    messageId: string,
    attempt: number,
    status: MessageStatus,
    detail: Record<string, unknown>,
    {
      nextAttemptAt = null,
      suppress = null,
    }: { nextAttemptAt?: Date | null; suppress?: 'hard_bounce' | null } = {},
  ): Promise<boolean> {
    const rows = await this.sql.rows(
      `WITH updated AS (
         UPDATE messages SET status = $3, updated_at = now(), lease_until = NULL, next_attempt_at = $5
          WHERE id = $1 AND status = 'sending' AND attempts = $2
         RETURNING id, workspace_id, recipient
       ), ev AS (
         INSERT INTO message_events (message_id, type, detail) SELECT id, $3, $4 FROM updated
       ), suppressed AS (
         INSERT INTO suppressions (workspace_id, email, reason)
         SELECT workspace_id, recipient, $6::varchar FROM updated WHERE $6::varchar IS NOT NULL
         ON CONFLICT (workspace_id, email) DO NOTHING
       )
       SELECT id FROM updated`,
      [messageId, attempt, status, JSON.stringify(detail), nextAttemptAt, suppress],
    );
    return rows.length > 0;
  }

  /** Whether attempt `attempt` of a message ended in `status` (a write whose answer was lost may have committed). */
  async attemptEnded(messageId: string, attempt: number, status: MessageStatus): Promise<boolean> {
    const row = await this.sql.one(`SELECT 1 FROM messages WHERE id = $1 AND attempts = $2 AND status = $3`, [
      messageId,
      attempt,
      status,
    ]);
    return row !== null;
  }
}
