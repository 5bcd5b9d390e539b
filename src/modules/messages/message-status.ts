/**
 * Every status a message can be in (SPEC §8); each one entered is recorded as
 * an event of that type. messages.status is checked against the same list.
 */
export const MESSAGE_STATUSES = [
  'scheduled',
  'pending',
  'sending',
  'sent',
  'deferred',
  'bounced',
  'failed',
  'suppressed',
  'canceled',
  'complained',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export type RecipientType = 'to' | 'bcc';
