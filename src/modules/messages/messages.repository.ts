import { Injectable } from '@nestjs/common';
import { Sql, SqlRunner } from '../../database/sql';
import type { MessageStatus, RecipientType } from './message-status';

export interface NewMessage {
  id: string;
  recipient: string;
  type: RecipientType;
  fromEmail: string;
  contactId: string | null;
}

export interface NewAttachment {
  filename: string;
  contentType: string;
  contentId: string | null;
  content: Buffer;
}

/** An accepted request: its content and attachments once, one message per recipient. */
export interface AcceptedRequest {
  id: string;
  workspaceId: string;
  source: 'api' | 'smtp';
  test: boolean;
  fromEmail: string;
  subject: string;
  html: string | null;
  text: string | null;
  replyTo: string | null;
  toRecipients: string[];
  headers: Record<string, string>;
  tag: string | null;
  attachments: NewAttachment[];
  /** `scheduled` (not before scheduledAt) or `pending` (to deliver now): every message's first status and event. */
  status: Extract<MessageStatus, 'pending' | 'scheduled'>;
  scheduledAt: Date | null;
  messages: NewMessage[];
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

export interface StrandedMessage {
  id: string;
  status: MessageStatus;
  attempts: number;
}

/**
 * The message state machine in SQL. Every statement that changes a message's
 * status inserts the matching event in the same statement, so the event log
 * and the status can never disagree.
 */
@Injectable()
export class MessagesRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Stores any number of accepted requests in one statement (so in one
   * transaction, or in the caller's): each request's content and attachments
   * once, one message per recipient with its first event (`pending` or
   * `scheduled`). Safe to repeat with the same requests (their ids were
   * planned once) after an error that may have hidden a commit: nothing is
   * stored twice.
   */
  async insertRequests(db: SqlRunner, requests: AcceptedRequest[]): Promise<void> {
    if (requests.length === 0) return;
    const messages = requests.flatMap((r) => r.messages.map((m) => ({ ...m, requestId: r.id })));
    const attachments = requests.flatMap((r) =>
      r.attachments.map((a, position) => ({ ...a, position, requestId: r.id })),
    );
    await db.exec(
      `WITH req AS (
         INSERT INTO email_requests (id, workspace_id, from_email, subject, html, text, reply_to, to_recipients,
                                     headers, tag, source, test)
         SELECT id, workspace_id, from_email, subject, html, text, reply_to, to_recipients::jsonb, headers::jsonb,
                tag, source, test
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::boolean[])
                AS r(id, workspace_id, from_email, subject, html, text, reply_to, to_recipients, headers, tag, source, test)
         ON CONFLICT (id) DO NOTHING
         RETURNING id, workspace_id, tag, created_at
       ), status AS (
         SELECT * FROM unnest($1::uuid[], $13::text[], $14::timestamptz[]) AS s(request_id, status, scheduled_at)
       ), msg AS (
         INSERT INTO messages (id, workspace_id, request_id, recipient, type, from_email, contact_id, tag, status,
                               scheduled_at, created_at, updated_at)
         SELECT m.id, req.workspace_id, req.id, m.recipient, m.type, m.from_email, m.contact_id, req.tag, s.status,
                s.scheduled_at, req.created_at, req.created_at
           FROM unnest($15::uuid[], $16::uuid[], $17::text[], $18::text[], $19::text[], $20::uuid[])
                AS m(id, request_id, recipient, type, from_email, contact_id)
           JOIN req ON req.id = m.request_id
           JOIN status s ON s.request_id = m.request_id
         RETURNING id, workspace_id, status
       ), ev AS (
         INSERT INTO message_events (message_id, workspace_id, type) SELECT id, workspace_id, status FROM msg
       )
       INSERT INTO email_attachments (request_id, position, filename, content_type, content_id, size, content)
       SELECT a.request_id, a.position, a.filename, a.content_type, a.content_id, octet_length(a.content), a.content
         FROM unnest($21::uuid[], $22::int[], $23::text[], $24::text[], $25::text[], $26::bytea[])
              AS a(request_id, position, filename, content_type, content_id, content)
         JOIN req ON req.id = a.request_id`,
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
        requests.map((r) => r.source),
        requests.map((r) => r.test),
        requests.map((r) => r.status),
        requests.map((r) => r.scheduledAt),
        messages.map((m) => m.id),
        messages.map((m) => m.requestId),
        messages.map((m) => m.recipient),
        messages.map((m) => m.type),
        messages.map((m) => m.fromEmail),
        messages.map((m) => m.contactId),
        attachments.map((a) => a.requestId),
        attachments.map((a) => a.position),
        attachments.map((a) => a.filename),
        attachments.map((a) => a.contentType),
        attachments.map((a) => a.contentId),
        attachments.map((a) => a.content),
      ],
      'insert-requests',
    );
  }

  /** Which of these requests are stored: after an error that may have hidden a commit. */
  async storedRequests(ids: string[]): Promise<Set<string>> {
    const stored = await this.sql.rows<{ id: string }>(
      `SELECT id FROM email_requests WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Set(stored.map((r) => r.id));
  }

  /**
   * Moves a message to `sending` if nobody else holds it: pending, deferred and
   * due, or sending with an expired lease (its worker died; the event says
   * `recovered`, since the earlier attempt may have reached the server). A job
   * that runs twice finds nothing to claim the second time.
   */
  async claim(messageId: string, leaseMs: number): Promise<DeliverableMessage | null> {
    const row = await this.sql.one<Record<string, unknown>>(
      `WITH prev AS (
         SELECT id, status FROM messages WHERE id = $1 FOR UPDATE
       ), claimed AS (
         UPDATE messages m
            SET status = 'sending', attempts = m.attempts + 1, updated_at = now(),
                lease_until = now() + $2 * interval '1 millisecond', next_attempt_at = NULL
           FROM prev
          WHERE m.id = prev.id
            AND (m.status = 'pending'
                 OR (m.status = 'deferred' AND m.next_attempt_at <= now() + interval '1 second')
                 OR (m.status = 'sending' AND m.lease_until < now()))
         RETURNING m.id, m.workspace_id, m.request_id, m.recipient, m.type, m.from_email, m.attempts,
                   prev.status = 'sending' AS recovered
       ), ev AS (
         INSERT INTO message_events (message_id, type, detail)
         SELECT id, 'sending',
                CASE WHEN recovered THEN jsonb_build_object('attempt', attempts, 'recovered', true)
                     ELSE jsonb_build_object('attempt', attempts) END
           FROM claimed
       )
       SELECT c.*, r.subject, r.html, r.text, r.reply_to, r.to_recipients, r.headers,
              EXISTS (SELECT 1 FROM suppressions s WHERE s.workspace_id = c.workspace_id AND s.email = c.recipient) AS suppressed
         FROM claimed c JOIN email_requests r ON r.id = c.request_id`,
      [messageId, leaseMs],
    );
    if (!row) return null;
    return {
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
    };
  }

  /**
   * Ends the attempt `attempt` of a message in `status`, recording the event.
   * Answers false when the message is no longer this attempt's (its lease ran
   * out and another worker claimed it).
   */
  async finishAttempt(
    messageId: string,
    attempt: number,
    status: MessageStatus,
    detail: Record<string, unknown>,
    nextAttemptAt: Date | null = null,
  ): Promise<boolean> {
    const rows = await this.sql.rows(
      `WITH updated AS (
         UPDATE messages SET status = $3, updated_at = now(), lease_until = NULL, next_attempt_at = $5
          WHERE id = $1 AND status = 'sending' AND attempts = $2
         RETURNING id
       )
       INSERT INTO message_events (message_id, type, detail) SELECT id, $3, $4 FROM updated RETURNING message_id`,
      [messageId, attempt, status, JSON.stringify(detail), nextAttemptAt],
    );
    return rows.length > 0;
  }

  /** Records something that happened to a message without changing its status. */
  async note(messageId: string, type: string, detail: Record<string, unknown>): Promise<void> {
    await this.sql.exec(`INSERT INTO message_events (message_id, type, detail) VALUES ($1, $2, $3)`, [
      messageId,
      type,
      JSON.stringify(detail),
    ]);
  }

  /**
   * Unfinished messages that may have no queued job: pending past a grace
   * period (queuing failed), deferred and overdue, or sending with an expired lease.
   */
  async findStranded(graceMs: number, limit: number): Promise<StrandedMessage[]> {
    return this.sql.rows<StrandedMessage>(
      `SELECT id, status, attempts FROM messages
        WHERE (status = 'pending' AND updated_at < now() - $1 * interval '1 millisecond')
           OR (status = 'deferred' AND updated_at < now() - $1 * interval '1 millisecond'
               AND next_attempt_at < now() - $1 * interval '1 millisecond')
           OR (status = 'sending' AND updated_at < now() AND lease_until < now())
        ORDER BY updated_at
        LIMIT $2`,
      [graceMs, limit],
    );
  }
}
