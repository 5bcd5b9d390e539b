/** Every status a message can be in; each one entered is recorded as an event of that type. */
export const MESSAGE_STATUSES = [
  'pending',
  'sending',
  'sent',
  'deferred',
  'bounced',
  'failed',
  'suppressed',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export type RecipientType = 'to' | 'bcc';
