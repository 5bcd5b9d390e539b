import type { Logger } from '@nestjs/common';
import type { JobOptions, Queue } from 'bull';

const ERROR_REPORT_INTERVAL_MS = 10_000;

/** Jobs leave Redis when done; PostgreSQL keeps the history. */
const JOB_OPTIONS: JobOptions = { removeOnComplete: true, removeOnFail: true, attempts: 1 };

export interface QueuedJob<T> {
  data: T;
  /** Bull job id: one per attempt, so queuing the same attempt twice adds one job. */
  jobId: string;
  delayMs?: number;
  /** For addMissing: the id of another job that, when queued, does this one's work. */
  alsoQueuedAs?: string;
}

/**
 * Puts jobs of one name on a Bull queue whose work is already stored in
 * PostgreSQL, so a Redis outage only delays it: a call gives up after
 * `timeoutMs` and answers false, and a sweeper queues the work later.
 * Queue connection errors are logged at most every 10 s. A caller may leave
 * an add unawaited: settled() waits for every add in flight, so a shutdown
 * awaits it before the queue's connection closes.
 */
export class QueueWriter<T> {
  private readonly inFlight = new Set<Promise<boolean>>();

  constructor(
    private readonly queue: Queue<T>,
    private readonly jobName: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    let lastReport = 0;
    queue.on('error', (error: Error) => {
      if (Date.now() - lastReport < ERROR_REPORT_INTERVAL_MS) return;
      lastReport = Date.now();
      this.logger.warn(`Queue connection error: ${error.message}`);
    });
  }

  /** Adds the jobs. Answers whether Redis took them in time; never rejects. */
  add(jobs: QueuedJob<T>[]): Promise<boolean> {
    const adding = this.addBulk(jobs);
    this.inFlight.add(adding);
    void adding.then(() => this.inFlight.delete(adding));
    return adding;
  }

  /** Resolves once every add begun so far has answered. */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  private async addBulk(jobs: QueuedJob<T>[]): Promise<boolean> {
    if (jobs.length === 0) return true;
    if (this.queue.client.status !== 'ready') {
      this.logger.warn(`Redis is not connected; ${jobs.length} job(s) left for the sweeper`);
      return false;
    }
    try {
      const added = this.queue.addBulk(
        jobs.map(({ data, jobId, delayMs }) => ({
          name: this.jobName,
          data,
          opts: { ...JOB_OPTIONS, jobId, delay: delayMs },
        })),
      );
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

  /**
   * Adds the jobs that are not in the queue already, under their id or their
   * `alsoQueuedAs`: one round trip looks them up, so a sweep over a queued
   * backlog does not re-add it job by job.
   */
  async addMissing(jobs: QueuedJob<T>[]): Promise<boolean> {
    if (jobs.length === 0 || this.queue.client.status !== 'ready') return this.add(jobs);
    const pipeline = this.queue.client.pipeline();
    for (const { jobId, alsoQueuedAs } of jobs) {
      const keys = [jobId, ...(alsoQueuedAs ? [alsoQueuedAs] : [])].map((id) => this.queue.toKey(id));
      pipeline.exists(...keys);
    }
    const found = await this.withinTimeout(pipeline.exec());
    return this.add(found ? jobs.filter((_, i) => !((found[i][1] as number) > 0)) : jobs);
  }

  /** The command's answer, or null when Redis did not answer within the timeout. */
  private async withinTimeout<R>(command: Promise<R>): Promise<R | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.timeoutMs);
    });
    try {
      return await Promise.race([command, timeout]);
    } finally {
      clearTimeout(timer);
      command.catch(() => undefined);
    }
  }
}
