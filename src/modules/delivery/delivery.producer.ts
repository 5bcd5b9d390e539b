import { InjectQueue } from '@nestjs/bull';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { QueuedJob as QueuedBullJob, QueueWriter } from '../../redis/queue-writer';
import { DELIVERY_QUEUE, DeliveryJob, DeliveryJobId, SendJobData } from './delivery.jobs';

export interface QueuedJob {
  messageId: string;
  requestId?: string;
  /** Bull job id: the message uuid for a first attempt, so queuing twice adds one job. */
  jobId: string;
  delayMs?: number;
  /** For addMissing: its request's first job, which delivers this message too while it is queued. */
  alsoQueuedAs?: string;
}

/** An accepted email request's messages, to be delivered by one job. */
export interface QueuedRequest {
  emailRequestId: string;
  messageIds: string[];
  /** The HTTP request that accepted it. */
  requestId?: string;
}

/**
 * Puts delivery jobs on the queue. Messages are already in PostgreSQL when
 * this runs, so a Redis outage only delays them: the call gives up after
 * QUEUE_TIMEOUT_MS and the worker's sweeper queues them later. A caller need
 * not wait for an add: a shutdown does, before the queue closes.
 */
@Injectable()
export class DeliveryProducer implements BeforeApplicationShutdown {
  private readonly writer: QueueWriter<SendJobData>;

  constructor(@InjectQueue(DELIVERY_QUEUE) queue: Queue<SendJobData>, @Inject(APP_CONFIG) config: AppConfig) {
    this.writer = new QueueWriter(
      queue,
      DeliveryJob.Send,
      config.delivery.queueTimeoutMs,
      new Logger(DeliveryProducer.name),
    );
  }

  /** Waits for the adds in flight; Bull closes its queues after this hook. */
  beforeApplicationShutdown(): Promise<void> {
    return this.writer.settled();
  }

  /**
   * First delivery attempt of the messages of newly accepted requests: one job
   * per request. Answers whether Redis took them in time.
   */
  enqueueRequests(requests: QueuedRequest[]): Promise<boolean> {
    return this.writer.add(
      requests.map(({ emailRequestId, messageIds, requestId }) => ({
        data: requestId ? { messageIds, requestId } : { messageIds },
        jobId: DeliveryJobId.request(emailRequestId),
      })),
    );
  }

  /** First delivery attempt of messages queued one by one (released, retried, rescheduled). */
  enqueue(messages: { messageId: string; requestId?: string }[]): Promise<boolean> {
    return this.add(messages.map((m) => ({ ...m, jobId: DeliveryJobId.first(m.messageId) })));
  }

  /** Adds the jobs that are not in the queue already, under their id or their `alsoQueuedAs` (see QueueWriter.addMissing). */
  addMissing(jobs: QueuedJob[]): Promise<boolean> {
    return this.writer.addMissing(jobs.map(toQueued));
  }

  add(jobs: QueuedJob[]): Promise<boolean> {
    return this.writer.add(jobs.map(toQueued));
  }
}

function toQueued({
  messageId,
  requestId,
  jobId,
  delayMs,
  alsoQueuedAs,
}: QueuedJob): QueuedBullJob<SendJobData> {
  const data = requestId ? { messageIds: [messageId], requestId } : { messageIds: [messageId] };
  return { data, jobId, delayMs, alsoQueuedAs };
}
