import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { INBOUND_QUEUE, InboundJob, ProcessJobData } from './inbound.jobs';

/**
 * Queues stored reports for processing. They are in PostgreSQL first, so a
 * Redis outage only delays them: adding gives up after QUEUE_TIMEOUT_MS and
 * the sweeper queues them later. The job id is the report id, so queuing one
 * twice adds one job.
 */
@Injectable()
export class InboundQueue {
  private readonly logger = new Logger(InboundQueue.name);

  constructor(
    @InjectQueue(INBOUND_QUEUE) private readonly queue: Queue<ProcessJobData>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Answers whether Redis took the jobs in time; never throws. */
  async add(reportIds: string[]): Promise<boolean> {
    if (reportIds.length === 0) return true;
    if (this.queue.client.status !== 'ready') return false;
    const added = this.queue.addBulk(
      reportIds.map((reportId) => ({
        name: InboundJob.Process,
        data: { reportId },
        opts: { jobId: reportId, removeOnComplete: true, removeOnFail: true, attempts: 1 },
      })),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.config.delivery.queueTimeoutMs);
    });
    try {
      return await Promise.race([added.then(() => true), timeout]);
    } catch (error) {
      this.logger.warn(
        `Queuing ${reportIds.length} report(s) failed (${(error as Error).message}); the sweep queues them later`,
      );
      return false;
    } finally {
      clearTimeout(timer);
      added.catch(() => undefined);
    }
  }
}
