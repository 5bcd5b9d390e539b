/**
 * Queue and job names. They are persisted in Redis (Bull keys
 * `<QUEUE_PREFIX>:<queue>:…`): renaming one strands the jobs already queued.
 */
export const DELIVERY_QUEUE = 'delivery';

export const DeliveryJob = {
  /** Deliver messages over SMTP, each to its one recipient. */
  Send: 'send',
} as const;

/** Jobs carry ids, never content: no addresses or bodies live in Redis. */
export interface SendJobData {
  /**
   * The messages to deliver: every message of an accepted request in its
   * first job, one message in any other job.
   */
  messageIds?: string[];
  /** The one message of a job queued by a version before jobs carried several. */
  messageId?: string;
  /** The HTTP request that accepted the message, to follow it into the worker's logs. */
  requestId?: string;
}

/** The messages a job delivers. */
export function messagesOf(job: SendJobData): string[] {
  return job.messageIds ?? (job.messageId ? [job.messageId] : []);
}

/**
 * Bull job ids, one per delivery attempt: queuing the same attempt twice (the
 * API and the sweeper, two sweepers) adds one job. A pending message is queued
 * under its request's id when its request is accepted, and under its own id
 * otherwise (released when scheduled, retried, rescheduled, swept).
 */
export const DeliveryJobId = {
  /** The first attempt of every message of an accepted email request. */
  request: (emailRequestId: string) => `${emailRequestId}-q`,
  /** The first attempt of one message: the message uuid itself. */
  first: (messageId: string) => messageId,
  /** Attempt `attempt` after a deferral. */
  retry: (messageId: string, attempt: number) => `${messageId}-r${attempt}`,
  /** A retry of attempt `attempt`, whose worker died holding the message. */
  recovery: (messageId: string, attempt: number) => `${messageId}-l${attempt}`,
};
