/**
 * The webhook queue and its job. Names are persisted in Redis (Bull keys
 * `<QUEUE_PREFIX>:<queue>:…`): renaming one strands the jobs already queued.
 * A queue of its own, so a slow endpoint never holds up message delivery.
 */
export const WEBHOOK_QUEUE = 'webhooks';

export const WebhookJob = {
  /** One attempt to post one delivery. */
  Attempt: 'attempt',
} as const;

/** Jobs carry the delivery's id, never the payload or the URL. */
export interface AttemptJobData {
  deliveryId: string;
}

/**
 * Bull job ids, one per attempt: queuing the same attempt twice (the
 * dispatcher or a retry, and the sweeper) adds one job.
 */
export const AttemptJobId = {
  /** Attempt `attempt` (1 = the first) of a pending delivery. */
  attempt: (deliveryId: string, attempt: number) => `${deliveryId}-a${attempt}`,
  /** The attempt after attempt `attempt`, whose worker died holding the delivery. */
  recovery: (deliveryId: string, attempt: number) => `${deliveryId}-l${attempt}`,
};
