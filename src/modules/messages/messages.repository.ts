import { Injectable } from '@nestjs/common';
import { Sql } from '../../database/sql';
import type { RecipientType } from './message-status';

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

/**
 * Storage of accepted requests (`email_requests`, `messages` and their first
 * event). Status changes after that are MessageLifecycle's.
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
}
