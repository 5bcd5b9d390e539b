/**
 * Queue and job names. They are persisted in Redis (Bull keys
 * `<QUEUE_PREFIX>:<queue>:…`): renaming one strands the jobs already queued.
 */
export const DELIVERY_QUEUE = 'delivery';

export const DeliveryJob = {
  /** Deliver one message over SMTP. */
  Send: 'send',
} as const;

/** Jobs carry ids, never content: no addresses or bodies live in Redis. */
export interface SendJobData {
  messageId: string;
}
