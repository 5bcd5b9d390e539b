import { Injectable } from '@nestjs/common';
import { Sql } from '../../database/sql';
import { EventSnapshot, MessageEventsOutbox, OutboxEvent } from '../messages/message-events-outbox';
import { AttemptRunner } from './attempt-runner';
import { NewDelivery, WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { Subscriber, WebhookEndpointsService } from './webhook-endpoints.service';
import { webhookEventType } from './webhook-events';
import { WebhookProducer } from './webhook.producer';

/** Events read per transaction. */
const BATCH = 500;

/**
 * Turns message events into webhook deliveries (SPEC §12): reads the
 * message_events outbox after its cursor (MessageEventsOutbox explains why
 * no event is skipped), creates one delivery per enabled endpoint of the
 * event's workspace that subscribes to its type and existed when it
 * happened, and moves the cursor past the batch in the same transaction, so
 * a crash either keeps both or neither. The cursor row is locked with SKIP
 * LOCKED: dispatchers in several workers take turns, never read a batch
 * twice. After the commit, this worker makes the first attempts itself, as
 * many as its AttemptRunner takes; the rest are queued to Bull for any
 * worker. A first attempt lost (the process died, Redis did not take the
 * job) leaves its delivery pending, due since its insert: the sweeper
 * queues it.
 */
@Injectable()
export class WebhookDispatcher {
  constructor(
    private readonly sql: Sql,
    private readonly outbox: MessageEventsOutbox,
    private readonly endpoints: WebhookEndpointsService,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly runner: AttemptRunner,
    private readonly producer: WebhookProducer,
  ) {}

  /** Dispatches until the outbox is caught up or another process is at it; answers how many events it read. */
  async dispatch(): Promise<number> {
    let read = 0;
    for (;;) {
      const batch = await this.dispatchBatch();
      if (!batch) return read;
      read += batch.events;
      await this.producer.first(this.runner.first(batch.deliveryIds));
      if (batch.events < BATCH) return read;
    }
  }

  private dispatchBatch(): Promise<{ events: number; deliveryIds: string[] } | null> {
    return this.sql.transaction(async (tx) => {
      const cursor = await tx.one<{ xid: string; event_id: string }>(
        `SELECT xid::text, event_id::text FROM webhook_dispatch_cursor FOR UPDATE SKIP LOCKED`,
        [],
        'webhook-cursor-lock',
      );
      if (!cursor) return null;
      const events = await this.outbox.readAfter(tx, { xid: cursor.xid, eventId: cursor.event_id }, BATCH);
      if (events.length === 0) return { events: 0, deliveryIds: [] };
      const workspaceIds = [...new Set(events.map((event) => event.workspaceId))];
      const matches = matchSubscribers(events, await this.endpoints.subscribers(tx, workspaceIds));
      let deliveryIds: string[] = [];
      if (matches.length > 0) {
        const snapshots = await this.outbox.snapshots(tx, [
          ...new Set(matches.map(({ event }) => event.eventId)),
        ]);
        const payloads = new Map<string, string>();
        const deliveries: NewDelivery[] = [];
        for (const { event, subscriber } of matches) {
          const snapshot = snapshots.get(event.eventId);
          if (!snapshot) continue;
          if (!payloads.has(event.eventId)) payloads.set(event.eventId, payloadOf(event, snapshot));
          deliveries.push({
            endpointId: subscriber.id,
            eventId: event.eventId,
            type: webhookEventType(event.type),
            payload: payloads.get(event.eventId)!,
          });
        }
        deliveryIds = await this.deliveries.insert(tx, deliveries);
      }
      const last = events[events.length - 1];
      await tx.exec(
        `UPDATE webhook_dispatch_cursor SET xid = $1::xid8, event_id = $2`,
        [last.xid, last.eventId],
        'webhook-cursor-advance',
      );
      return { events: events.length, deliveryIds };
    });
  }
}

/**
 * Who is told of each event: the endpoints of its workspace that subscribe
 * to its type and were created before it (one created later never gets it).
 */
export function matchSubscribers(
  events: OutboxEvent[],
  subscribers: Subscriber[],
): { event: OutboxEvent; subscriber: Subscriber }[] {
  const byWorkspace = new Map<string, Subscriber[]>();
  for (const subscriber of subscribers) {
    byWorkspace.set(subscriber.workspaceId, [...(byWorkspace.get(subscriber.workspaceId) ?? []), subscriber]);
  }
  return events.flatMap((event) =>
    (byWorkspace.get(event.workspaceId) ?? [])
      .filter((s) => s.events.has(webhookEventType(event.type)) && s.createdAt <= event.at)
      .map((subscriber) => ({ event, subscriber })),
  );
}

/** The body of every attempt of an event (SPEC §12), made once, so retries post the same bytes. */
export function payloadOf(event: OutboxEvent, snapshot: EventSnapshot): string {
  return JSON.stringify({
    type: webhookEventType(event.type),
    timestamp: event.at.toISOString(),
    data: { message: snapshot.message, event: snapshot.event },
  });
}
