import { MESSAGE_EVENT_TYPES, type MessageEventType } from '../messages/message-status';

/** What an endpoint can subscribe to: every §8 event type as `message.<type>` (SPEC §12). */
export const WEBHOOK_EVENT_TYPES = MESSAGE_EVENT_TYPES.map((type) => `message.${type}` as const);
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function webhookEventType(type: MessageEventType): WebhookEventType {
  return `message.${type}`;
}

/** The `webhook-id` of an event: `evt_` and its id, the same on every attempt and for every endpoint. */
export function webhookId(eventId: string): string {
  return `evt_${eventId}`;
}
