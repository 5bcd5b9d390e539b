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
import { INBOUND_QUEUE, InboundJob, ProcessJobData } from './inbound.jobs';
import { InboundQueue } from './inbound.queue';
import { InboundReportsRepository } from './inbound-reports.repository';
import { ReportProcessor } from './report-processor';

const CONCURRENCY = 4;
const SWEEP_BATCH = 1000;
/** How long a processed report's outcome is kept (its bytes go when it is processed). */
const KEEP_OUTCOMES_DAYS = 30;
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Processes stored reports from the queue, and sweeps (every
 * SWEEP_INTERVAL_MS) for those left unprocessed past SWEEP_GRACE_MS — Redis
 * was down when they came, or a worker died holding them — queuing them again.
 */
@Injectable()
export class InboundWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InboundWorker.name);
  private readonly sweeper: PeriodicTask;

  constructor(
    @InjectQueue(INBOUND_QUEUE) private readonly queue: Queue<ProcessJobData>,
    private readonly processor: ReportProcessor,
    private readonly reports: InboundReportsRepository,
    private readonly inbound: InboundQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.sweeper = new PeriodicTask(
      () => this.sweep(),
      config.delivery.sweepIntervalMs,
      (error) => this.logger.warn(`Inbound sweep failed: ${error.message}`),
    );
  }

  onApplicationBootstrap(): void {
    void this.queue.process(InboundJob.Process, CONCURRENCY, (job) =>
      this.processor.process(job.data.reportId),
    );
    this.sweeper.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.sweeper.stop();
    await settleWithin(this.queue.close(), SHUTDOWN_GRACE_MS);
  }

  private async sweep(): Promise<void> {
    const ids = await this.reports.unprocessed(this.config.delivery.sweepGraceMs, SWEEP_BATCH);
    await this.inbound.add(ids);
    await this.reports.prune(KEEP_OUTCOMES_DAYS);
  }
}
