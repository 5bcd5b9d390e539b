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
import { StrandedMessagesRepository } from '../messages/stranded-messages.repository';
import { DELIVERY_QUEUE, DeliveryJob, DeliveryJobId, SendJobData } from './delivery.jobs';
import { DeliveryProducer, QueuedJob } from './delivery.producer';
import { DeliveryService } from './delivery.service';
import { MAIL_TRANSPORT, MailTransport } from './transports/mail-transport';

const SWEEP_BATCH = 1000;
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The worker role: consumes delivery jobs with DELIVERY_CONCURRENCY, and
 * sweeps for unfinished messages that have no job (queuing failed while Redis
 * was down, Redis lost its data, a worker died mid-delivery).
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  private readonly sweeper: PeriodicTask;

  constructor(
    @InjectQueue(DELIVERY_QUEUE) private readonly queue: Queue<SendJobData>,
    private readonly delivery: DeliveryService,
    private readonly stranded: StrandedMessagesRepository,
    private readonly producer: DeliveryProducer,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.sweeper = new PeriodicTask(
      () => this.sweep(),
      config.delivery.sweepIntervalMs,
      (error) => this.logger.warn(`Sweep failed: ${error.message}`),
    );
  }

  onApplicationBootstrap(): void {
    void this.queue.process(DeliveryJob.Send, this.config.delivery.concurrency, (job) =>
      this.delivery.deliver(job.data.messageId, job.data.requestId),
    );
    this.sweeper.start();
  }

  /**
   * On SIGTERM: stop taking jobs and let in-flight deliveries finish, for at
   * most SHUTDOWN_GRACE_MS (a delivery cut short is retried after its lease).
   * Runs before other modules close the database.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.sweeper.stop();
    await settleWithin(this.queue.close(), SHUTDOWN_GRACE_MS);
    this.transport.close();
  }

  /**
   * Queues a job for every stranded message that has none. One process sweeps
   * at a time (the others skip their turn); job ids make a message queued twice one job.
   */
  private async sweep(): Promise<void> {
    await this.stranded.sweep(this.config.delivery.sweepGraceMs, SWEEP_BATCH, async (batch) => {
      const jobs: QueuedJob[] = batch.map(({ id, status, attempts }) => ({
        messageId: id,
        jobId:
          status === 'pending'
            ? DeliveryJobId.first(id)
            : status === 'deferred'
              ? DeliveryJobId.retry(id, attempts + 1)
              : DeliveryJobId.recovery(id, attempts),
      }));
      await this.producer.addMissing(jobs);
    });
  }
}
