import { Injectable } from '@nestjs/common';
import type { SqlRunner } from '../../database/sql';
import {
  MESSAGE_STATUSES,
  type MessageEventType,
  type MessageStatus,
  type RecipientType,
} from './message-status';

/** A place in the outbox: the (xid, id) of the last event read. */
export interface OutboxPosition {
  xid: string;
  eventId: string;
}

/** An event as the outbox hands it out: enough to decide who is told. */
export interface OutboxEvent extends OutboxPosition {
  workspaceId: string;
  type: MessageEventType;
  at: Date;
}

/** An event with its message, as a webhook payload shows them (SPEC §12). */
export interface EventSnapshot {
  message: {
    uuid: string;
    recipient: string;
    type: RecipientType;
    from: string;
    subject: string;
    status: MessageStatus;
    tag: string | null;
    contact_id: string | null;
  };
  event: { type: MessageEventType; at: Date; detail: Record<string, unknown> };
}

const STATUSES: readonly string[] = MESSAGE_STATUSES;

/**
 * message_events read as an outbox, in (xid, id) order: `xid` is the
 * transaction that inserted the event (pg_current_xact_id(), its column
 * default), and only events whose transaction is older than the reading
 * statement's snapshot xmin are handed out.
 *
 * Why no event is ever skipped, although ids come from a sequence and
 * transactions commit in any order: xmin is the oldest transaction still
 * running when the snapshot is taken, so every transaction below it has
 * ended (its events are visible now, or rolled back for good), and every
 * transaction that has not ended, or has not started, has an xid at or
 * above it. The set of events with xid < xmin is therefore final, and xmin
 * never goes backwards. A cursor at (x, i) read that way has seen every
 * event at or before (x, i): none can commit there later. A transaction
 * held open only delays the events after it, it never hides them.
 */
@Injectable()
export class MessageEventsOutbox {
  /** Up to `limit` events after `after` whose transaction has ended, in (xid, id) order. */
  async readAfter(db: SqlRunner, after: OutboxPosition, limit: number): Promise<OutboxEvent[]> {
    const rows = await db.rows<{
      id: string;
      xid: string;
      workspace_id: string;
      type: MessageEventType;
      at: Date;
    }>(
      `SELECT id::text, xid::text, workspace_id, type, at FROM message_events
        WHERE (xid, id) > ($1::xid8, $2::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY xid, id
        LIMIT $3`,
      [after.xid, after.eventId, limit],
      'outbox-read-after',
    );
    return rows.map((row) => ({
      eventId: row.id,
      xid: row.xid,
      workspaceId: row.workspace_id,
      type: row.type,
      at: row.at,
    }));
  }

  /**
   * The events with their messages, by event id. `status` is the one the
   * event entered; for `delayed`, which enters none, the message's status.
   */
  async snapshots(db: SqlRunner, eventIds: string[]): Promise<Map<string, EventSnapshot>> {
    const rows = await db.rows<Record<string, unknown>>(
      `SELECT e.id::text AS event_id, e.type AS event_type, e.at, e.detail, m.id AS uuid, m.recipient, m.type,
              m.from_email, m.status, m.tag, m.contact_id, r.subject
         FROM message_events e
         JOIN messages m ON m.id = e.message_id
         JOIN email_requests r ON r.id = m.request_id
        WHERE e.id = ANY($1::bigint[])`,
      [eventIds],
      'outbox-snapshots',
    );
    const found = new Map<string, EventSnapshot>();
    for (const row of rows) {
      const eventType = row.event_type as MessageEventType;
      found.set(row.event_id as string, {
        message: {
          uuid: row.uuid as string,
          recipient: row.recipient as string,
          type: row.type as RecipientType,
          from: row.from_email as string,
          subject: row.subject as string,
          status: (STATUSES.includes(eventType) ? eventType : row.status) as MessageStatus,
          tag: row.tag as string | null,
          contact_id: row.contact_id as string | null,
        },
        event: { type: eventType, at: row.at as Date, detail: row.detail as Record<string, unknown> },
      });
    }
    return found;
  }
}
