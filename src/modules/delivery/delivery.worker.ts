import { InjectQueue } from '@nestjs/bull';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import type { Queue } from 'bull';
import { ConcurrencyLimit, PeriodicTask, settleWithin } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { StrandedMessagesRepository } from '../messages/stranded-messages.repository';
import { DELIVERY_QUEUE, DeliveryJob, DeliveryJobId, messagesOf, SendJobData } from './delivery.jobs';
import { DeliveryProducer, QueuedJob } from './delivery.producer';
import { DeliveryService } from './delivery.service';
import { MAIL_TRANSPORT, MailTransport } from './transports/mail-transport';

const SWEEP_BATCH = 1000;
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The worker role: consumes delivery jobs, delivering at most
 * DELIVERY_CONCURRENCY messages at a time whatever jobs they come in (a
 * request's first job carries all its messages), and sweeps for unfinished
 * messages that have no job (queuing failed while Redis was down, Redis lost
 * its data, a worker died mid-delivery).
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  private readonly sweeper: PeriodicTask;
  private readonly deliveries: ConcurrencyLimit;
  private stopping = false;

  constructor(
    @InjectQueue(DELIVERY_QUEUE) private readonly queue: Queue<SendJobData>,
    private readonly delivery: DeliveryService,
    private readonly stranded: StrandedMessagesRepository,
    private readonly producer: DeliveryProducer,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.deliveries = new ConcurrencyLimit(config.delivery.concurrency);
    this.sweeper = new PeriodicTask(
      () => this.sweep(),
      config.delivery.sweepIntervalMs,
      (error) => this.logger.warn(`Sweep failed: ${error.message}`),
    );
  }

  onApplicationBootstrap(): void {
    void this.queue.process(DeliveryJob.Send, this.config.delivery.concurrency, (job) =>
      this.deliverAll(messagesOf(job.data), job.data.requestId),
    );
    this.sweeper.start();
  }

  /**
   * On SIGTERM: stop taking jobs and let in-flight deliveries finish, for at
   * most SHUTDOWN_GRACE_MS (a delivery cut short is retried after its lease);
   * the messages of taken jobs that have not started are queued again, one
   * job each, for the next worker. Runs before other modules close the database.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.sweeper.stop();
    await settleWithin(this.queue.close(), SHUTDOWN_GRACE_MS);
    this.transport.close();
  }

  /**
   * Delivers a job's messages, each once a delivery slot is free (it is
   * claimed only then, so its lease does not run while it waits). Those that
   * get their slot after SIGTERM are queued again instead. The job fails,
   * after all have ended, if any delivery stopped on an error: the message is
   * left to its lease or the sweeper.
   */
  private async deliverAll(messageIds: string[], requestId?: string): Promise<void> {
    const unstarted: string[] = [];
    const ended = await Promise.allSettled(
      messageIds.map((id) =>
        this.deliveries.run(async () => {
          if (this.stopping) unstarted.push(id);
          else await this.delivery.deliver(id, requestId);
        }),
      ),
    );
    if (unstarted.length > 0) {
      await this.producer.enqueue(unstarted.map((messageId) => ({ messageId, requestId })));
    }
    const failed = ended.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Queues a job for every stranded message that has none. One process sweeps
   * at a time (the others skip their turn); job ids make a message queued twice one job,
   * and a pending message whose request's first job is still queued gets none.
   */
  private async sweep(): Promise<void> {
    await this.stranded.sweep(this.config.delivery.sweepGraceMs, SWEEP_BATCH, async (batch) => {
      const jobs: QueuedJob[] = batch.map(({ id, requestId, status, attempts }) =>
        status === 'pending'
          ? { messageId: id, jobId: DeliveryJobId.first(id), alsoQueuedAs: DeliveryJobId.request(requestId) }
          : {
              messageId: id,
              jobId:
                status === 'deferred'
                  ? DeliveryJobId.retry(id, attempts + 1)
                  : DeliveryJobId.recovery(id, attempts),
            },
      );
      await this.producer.addMissing(jobs);
    });
  }
}
