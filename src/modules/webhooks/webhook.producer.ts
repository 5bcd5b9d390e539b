import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { QueuedJob, QueueWriter } from '../../redis/queue-writer';
import type { StrandedDelivery } from './webhook-deliveries.repository';
import { AttemptJobData, AttemptJobId, WEBHOOK_QUEUE, WebhookJob } from './webhook.jobs';

/**
 * Puts webhook attempts on their queue. Deliveries are stored before this
 * runs, so a Redis outage only delays them: the sweeper queues them later.
 */
@Injectable()
export class WebhookProducer {
  private readonly writer: QueueWriter<AttemptJobData>;

  constructor(
    @InjectQueue(WEBHOOK_QUEUE) queue: Queue<AttemptJobData>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.writer = new QueueWriter(
      queue,
      WebhookJob.Attempt,
      config.delivery.queueTimeoutMs,
      new Logger(WebhookProducer.name),
    );
  }

  /** The first attempt of new deliveries. */
  first(deliveryIds: string[]): Promise<boolean> {
    return this.writer.add(
      deliveryIds.map((deliveryId) => job(deliveryId, AttemptJobId.attempt(deliveryId, 1))),
    );
  }

  /** Attempt `attempt` of a delivery, due at `dueAt`. */
  retry(deliveryId: string, attempt: number, dueAt: Date): Promise<boolean> {
    const delayMs = Math.max(0, dueAt.getTime() - Date.now());
    return this.writer.add([{ ...job(deliveryId, AttemptJobId.attempt(deliveryId, attempt)), delayMs }]);
  }

  /** The sweeper's finds, each with the job id of its next attempt, unless that job is queued already. */
  stranded(deliveries: StrandedDelivery[]): Promise<boolean> {
    return this.writer.addMissing(
      deliveries.map(({ id, status, attempts }) =>
        job(
          id,
          status === 'pending' ? AttemptJobId.attempt(id, attempts + 1) : AttemptJobId.recovery(id, attempts),
        ),
      ),
    );
  }
}

function job(deliveryId: string, jobId: string): QueuedJob<AttemptJobData> {
  return { data: { deliveryId }, jobId };
}
