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
  /** The HTTP request that accepted the message, to follow it into the worker's logs. */
  requestId?: string;
}

/**
 * Bull job ids, one per delivery attempt of a message: queuing the same
 * attempt twice (the API and the sweeper, two sweepers) adds one job.
 */
export const DeliveryJobId = {
  /** The first attempt: the message uuid itself. */
  first: (messageId: string) => messageId,
  /** Attempt `attempt` after a deferral. */
  retry: (messageId: string, attempt: number) => `${messageId}-r${attempt}`,
  /** A retry of attempt `attempt`, whose worker died holding the message. */
  recovery: (messageId: string, attempt: number) => `${messageId}-l${attempt}`,
};
