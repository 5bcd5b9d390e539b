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

/** What a request stores once for all its messages, and delivery reads back for each. */
export interface MessageContent {
  /** `smtp`: the content is the client's raw message (SPEC §11). */
  source: 'api' | 'smtp';
  /** A test key's request (SPEC §14): its outcomes are simulated, nothing is handed to SMTP. */
  test: boolean;
  subject: string;
  html: string | null;
  text: string | null;
  replyTo: string | null;
  toRecipients: string[];
  headers: Record<string, string>;
}

/** An accepted request: its content and attachments once, one message per recipient. */
export interface AcceptedRequest extends MessageContent {
  id: string;
  workspaceId: string;
  fromEmail: string;
  tag: string | null;
  attachments: NewAttachment[];
  /** The message as an SMTP client wrote it (SPEC §11), kept in email_raw_content; null for the API's content fields. */
  raw: Buffer | null;
  /** `scheduled` (not before scheduledAt) or `pending` (to deliver now): every message's first status and event. */
  status: Extract<MessageStatus, 'pending' | 'scheduled'>;
  scheduledAt: Date | null;
  messages: NewMessage[];
}

/** A message a report is about: enough to match the report's blocks and scope its transition. */
export interface ReportedMessageRow {
  id: string;
  workspaceId: string;
  recipient: string;
  fromEmail: string;
  test: boolean;
}

/**
 * Storage of accepted requests (`email_requests`, `messages` and their first
 * event). Status changes after that are MessageLifecycle's.
 */
@Injectable()
export class MessagesRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Stores any number of accepted requests in one statement (so in one
   * transaction, or in the caller's): each request's content and attachments
   * once (with their count, which tells delivery whether to read them), one
   * message per recipient with its first event (`pending` or `scheduled`).
   * Safe to repeat with the same requests (their ids were planned once)
   * after an error that may have hidden a commit: nothing is stored twice.
   */
  async insertRequests(db: SqlRunner, requests: AcceptedRequest[]): Promise<void> {
    if (requests.length === 0) return;
    const messages = requests.flatMap((r) => r.messages.map((m) => ({ ...m, requestId: r.id })));
    const attachments = requests.flatMap((r) =>
      r.attachments.map((a, position) => ({ ...a, position, requestId: r.id })),
    );
    const raws = requests.filter((r) => r.raw !== null);
    await db.exec(
      `WITH req AS (
         INSERT INTO email_requests (id, workspace_id, from_email, subject, html, text, reply_to, to_recipients,
                                     headers, tag, source, test, attachment_count)
         SELECT id, workspace_id, from_email, subject, html, text, reply_to, to_recipients::jsonb, headers::jsonb,
                tag, source, test, attachment_count
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::boolean[], $27::smallint[])
                AS r(id, workspace_id, from_email, subject, html, text, reply_to, to_recipients, headers, tag, source, test,
                     attachment_count)
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
       ), raw AS (
         INSERT INTO email_raw_content (request_id, content)
         SELECT c.request_id, c.content FROM unnest($28::uuid[], $29::bytea[]) AS c(request_id, content)
           JOIN req ON req.id = c.request_id
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
        requests.map((r) => r.attachments.length),
        raws.map((r) => r.id),
        raws.map((r) => r.raw),
      ],
      'insert-requests',
    );
  }

  /** The raw content (SPEC §11) of a message's request; null when it was sent with content fields. */
  async rawContent(messageId: string): Promise<Buffer | null> {
    const row = await this.sql.one<{ content: Buffer }>(
      `SELECT c.content FROM messages m JOIN email_raw_content c ON c.request_id = m.request_id WHERE m.id = $1`,
      [messageId],
      'raw-content',
    );
    return row?.content ?? null;
  }

  /**
   * The message a bounce or complaint report names (SPEC §13), found by its
   * id alone: the id comes from a signed return path or a Message-ID Leadpush
   * made, and the workspace it answers is the one every transition is then
   * scoped to. Null when there is no such message.
   */
  async reportedMessage(messageId: string): Promise<ReportedMessageRow | null> {
    return this.sql.one<ReportedMessageRow>(
      `SELECT m.id, m.workspace_id AS "workspaceId", m.recipient, m.from_email AS "fromEmail", r.test
         FROM messages m JOIN email_requests r ON r.id = m.request_id
        WHERE m.id = $1`,
      [messageId],
      'reported-message',
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
}
