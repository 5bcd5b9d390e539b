import { MESSAGE_EVENT_TYPES, type MessageEventType } from '../messages/message-status';

/** What an endpoint can subscribe to: every §8 event type as `message.<type>` (SPEC §12). */
export const WEBHOOK_EVENT_TYPES = MESSAGE_EVENT_TYPES.map((type) => `message.${type}` as const);
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function webhookEventType(type: MessageEventType): WebhookEventType {
  return `message.${type}`;
}
