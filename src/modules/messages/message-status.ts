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

/** Statuses a message never leaves. */
export const FINAL_STATUSES: readonly MessageStatus[] = ['sent', 'bounced', 'failed', 'suppressed'];

export type RecipientType = 'to' | 'bcc';
