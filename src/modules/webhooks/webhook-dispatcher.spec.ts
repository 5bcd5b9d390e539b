import type { EventSnapshot, OutboxEvent } from '../messages/message-events-outbox';
import { matchSubscribers, payloadOf } from './webhook-dispatcher';
import type { Subscriber } from './webhook-endpoints.service';

const at = (iso: string) => new Date(iso);
const event = (
  eventId: string,
  workspaceId: string,
  type: OutboxEvent['type'],
  time: string,
): OutboxEvent => ({
  eventId,
  xid: '100',
  workspaceId,
  type,
  at: at(time),
});
const subscriber = (id: string, workspaceId: string, events: string[], createdAt: string): Subscriber => ({
  id,
  workspaceId,
  events: new Set(events),
  createdAt: at(createdAt),
});

describe('matchSubscribers', () => {
  const events = [
    event('1', 'ws-a', 'sent', '2026-12-01T10:00:00.000Z'),
    event('2', 'ws-a', 'bounced', '2026-12-01T10:00:01.000Z'),
    event('3', 'ws-b', 'sent', '2026-12-01T10:00:02.000Z'),
  ];

  it('tells each event only to endpoints of its workspace subscribed to its type', () => {
    const matches = matchSubscribers(events, [
      subscriber('a-sent', 'ws-a', ['message.sent'], '2026-12-01T09:00:00.000Z'),
      subscriber('a-all', 'ws-a', ['message.sent', 'message.bounced'], '2026-12-01T09:00:00.000Z'),
      subscriber('b-bounced', 'ws-b', ['message.bounced'], '2026-12-01T09:00:00.000Z'),
      subscriber('b-sent', 'ws-b', ['message.sent'], '2026-12-01T09:00:00.000Z'),
    ]);
    expect(matches.map((m) => [m.event.eventId, m.subscriber.id])).toEqual([
      ['1', 'a-sent'],
      ['1', 'a-all'],
      ['2', 'a-all'],
      ['3', 'b-sent'],
    ]);
  });

  it('never tells an endpoint of an event that happened before it was created', () => {
    const matches = matchSubscribers(events, [
      subscriber('late', 'ws-a', ['message.sent', 'message.bounced'], '2026-12-01T10:00:00.500Z'),
    ]);
    expect(matches.map((m) => m.event.eventId)).toEqual(['2']);
  });
});

describe('payloadOf', () => {
  it('is the SPEC §12 body, times in ISO 8601 UTC', () => {
    const snapshot: EventSnapshot = {
      message: {
        uuid: 'u',
        recipient: 'r@example.test',
        type: 'to',
        from: 'f@example.test',
        subject: 's',
        status: 'sent',
        tag: null,
        contact_id: null,
      },
      event: { type: 'sent', at: at('2026-12-01T10:00:00.123Z'), detail: { smtp_code: 250 } },
    };
    const body = payloadOf(event('7', 'ws-a', 'sent', '2026-12-01T10:00:00.123Z'), snapshot);
    expect(body).toBe(
      '{"type":"message.sent","timestamp":"2026-12-01T10:00:00.123Z","data":{"message":{"uuid":"u",' +
        '"recipient":"r@example.test","type":"to","from":"f@example.test","subject":"s","status":"sent",' +
        '"tag":null,"contact_id":null},"event":{"type":"sent","at":"2026-12-01T10:00:00.123Z","detail":{"smtp_code":250}}}}',
    );
  });
});
