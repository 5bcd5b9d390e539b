import { InjectQueue } from '@nestjs/bull';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import type { Queue } from 'bull';
import { PeriodicTask, settleWithin } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AttemptRunner } from './attempt-runner';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDispatcher } from './webhook-dispatcher';
import { AttemptJobData, WEBHOOK_QUEUE, WebhookJob } from './webhook.jobs';
import { WebhookProducer } from './webhook.producer';

const SWEEP_BATCH = 1000;
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The worker side of webhooks (APP_ROLE all or worker): the dispatcher every
 * WEBHOOK_DISPATCH_INTERVAL_MS (it makes the first attempts of what it
 * dispatched through the AttemptRunner), the consumer of the attempt jobs
 * (retries, recoveries, the first attempts the runner had no room for), and
 * a sweeper (every SWEEP_INTERVAL_MS) that queues the deliveries whose
 * attempt went missing: Redis was down or lost its data, a worker died
 * before or during an attempt. The consumer takes up to WEBHOOK_CONCURRENCY
 * jobs and the runner makes at most WEBHOOK_CONCURRENCY attempts at once,
 * both kinds together.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookWorker.name);
  private readonly dispatcher: PeriodicTask;
  private readonly sweeper: PeriodicTask;

  constructor(
    @InjectQueue(WEBHOOK_QUEUE) private readonly queue: Queue<AttemptJobData>,
    private readonly runner: AttemptRunner,
    dispatcher: WebhookDispatcher,
    deliveries: WebhookDeliveriesRepository,
    producer: WebhookProducer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.dispatcher = new PeriodicTask(
      () => dispatcher.dispatch(),
      config.webhooks.dispatchIntervalMs,
      (error) => this.logger.warn(`Webhook dispatch failed: ${error.message}`),
    );
    this.sweeper = new PeriodicTask(
      () =>
        deliveries.sweep(config.delivery.sweepGraceMs, SWEEP_BATCH, async (batch) => {
          await producer.stranded(batch);
        }),
      config.delivery.sweepIntervalMs,
      (error) => this.logger.warn(`Webhook sweep failed: ${error.message}`),
    );
  }

  onApplicationBootstrap(): void {
    void this.queue.process(WebhookJob.Attempt, this.config.webhooks.concurrency, (job) =>
      this.runner.queued(job.data.deliveryId),
    );
    this.dispatcher.start();
    this.sweeper.start();
  }

  /**
   * On SIGTERM: stop dispatching and sweeping, hand the first attempts not
   * started to Bull, and let the attempts in flight (and the jobs taken)
   * finish, for at most SHUTDOWN_GRACE_MS. The hand-over comes before the
   * queue closes, since it writes to the queue.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.dispatcher.stop();
    this.sweeper.stop();
    const close = async () => {
      await this.runner.handOver();
      await Promise.all([this.runner.settled(), this.queue.close()]);
    };
    await settleWithin(close(), SHUTDOWN_GRACE_MS);
  }
}
