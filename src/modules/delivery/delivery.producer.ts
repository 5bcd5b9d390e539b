import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobOptions, Queue } from 'bull';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DELIVERY_QUEUE, DeliveryJob, DeliveryJobId, SendJobData } from './delivery.jobs';

const ERROR_REPORT_INTERVAL_MS = 10_000;

/** Jobs leave Redis when done; PostgreSQL keeps the history. */
const JOB_OPTIONS: JobOptions = { removeOnComplete: true, removeOnFail: true, attempts: 1 };

export interface QueuedJob {
  messageId: string;
  requestId?: string;
  /** Bull job id: the message uuid for a first attempt, so queuing twice adds one job. */
  jobId: string;
  delayMs?: number;
}

/**
 * Puts delivery jobs on the queue. Messages are already in PostgreSQL when
 * this runs, so a Redis outage only delays them: the call gives up after
 * QUEUE_TIMEOUT_MS and the worker's sweeper queues them later.
 */
@Injectable()
export class DeliveryProducer {
  private readonly logger = new Logger(DeliveryProducer.name);

  constructor(
    @InjectQueue(DELIVERY_QUEUE) private readonly queue: Queue<SendJobData>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    let lastReport = 0;
    queue.on('error', (error: Error) => {
      if (Date.now() - lastReport < ERROR_REPORT_INTERVAL_MS) return;
      lastReport = Date.now();
      this.logger.warn(`Queue connection error: ${error.message}`);
    });
  }

  /** First delivery attempt of newly accepted messages. Answers whether Redis took them in time. */
  enqueue(messages: { messageId: string; requestId?: string }[]): Promise<boolean> {
    return this.add(messages.map((m) => ({ ...m, jobId: DeliveryJobId.first(m.messageId) })));
  }

  /**
   * Adds the jobs that are not in the queue already: one round trip looks
   * them up, so a sweep over a queued backlog does not re-add it job by job.
   */
  async addMissing(jobs: QueuedJob[]): Promise<boolean> {
    if (jobs.length === 0 || this.queue.client.status !== 'ready') return this.add(jobs);
    const pipeline = this.queue.client.pipeline();
    for (const job of jobs) pipeline.exists(this.queue.toKey(job.jobId));
    const found = await this.withinTimeout(pipeline.exec());
    return this.add(found ? jobs.filter((_, i) => found[i][1] !== 1) : jobs);
  }

  async add(jobs: QueuedJob[]): Promise<boolean> {
    if (jobs.length === 0) return true;
    if (this.queue.client.status !== 'ready') {
      this.logger.warn(`Redis is not connected; ${jobs.length} job(s) left for the sweeper`);
      return false;
    }
    const added = this.queue.addBulk(
      jobs.map(({ messageId, requestId, jobId, delayMs }) => ({
        name: DeliveryJob.Send,
        data: requestId ? { messageId, requestId } : { messageId },
        opts: { ...JOB_OPTIONS, jobId, delay: delayMs },
      })),
    );
    try {
      const done = (await this.withinTimeout(added)) !== null;
      if (!done) this.logger.warn(`Queuing ${jobs.length} job(s) timed out; the sweeper will queue them`);
      return done;
    } catch (error) {
      this.logger.warn(
        `Queuing ${jobs.length} job(s) failed (${(error as Error).message}); the sweeper will queue them`,
      );
      return false;
    }
  }

  /** The command's answer, or null when Redis did not answer within QUEUE_TIMEOUT_MS. */
  private async withinTimeout<T>(command: Promise<T>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.config.delivery.queueTimeoutMs);
    });
    try {
      return await Promise.race([command, timeout]);
    } finally {
      clearTimeout(timer);
      command.catch(() => undefined);
    }
  }
}
