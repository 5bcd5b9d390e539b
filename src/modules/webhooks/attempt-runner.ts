import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConcurrencyLimit } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import type { AttemptOutcome } from './dto/webhook.dto';
import { WebhookSender } from './webhook-sender';
import { WebhookProducer } from './webhook.producer';

/**
 * First attempts a worker keeps waiting for a slot, per slot
 * (WEBHOOK_CONCURRENCY); the rest go to Bull. Five: the last one waits
 * about five attempts' time (more while Bull jobs go ahead), well under
 * SWEEP_GRACE_MS when endpoints answer in time (one waiting longer is
 * queued by the sweeper too, and the claim lets only one of the two
 * attempt), and 100 at the default concurrency hold a dispatch interval's
 * events at a worker's mail rate.
 */
const BACKLOG_PER_SLOT = 5;

/**
 * Runs this worker's webhook attempts, at most WEBHOOK_CONCURRENCY at once
 * whichever way they came:
 * - the first attempts of the deliveries this worker's dispatcher has just
 *   committed, made here without a Bull job each: a job's round trips are
 *   much of an attempt's CPU, on the event loop that also delivers mail.
 *   At most BACKLOG_PER_SLOT × WEBHOOK_CONCURRENCY of them wait for a
 *   slot; the dispatcher queues the rest to Bull, where any worker takes
 *   them, so a burst never grows this process's memory and the workers
 *   still share it;
 * - the attempts of Bull jobs (retries, the sweeper's finds, that overflow),
 *   in the line ahead: a job this worker took from Redis can go to no other
 *   worker, so it waits only for the next free slot, never behind the local
 *   backlog.
 * Nothing here needs to be durable: a delivery is committed before its first
 * attempt, so one lost with this process (killed before or during the
 * attempt) is still pending or leased in its table, and the sweeper queues
 * it. Two workers never make the same attempt: the claim decides.
 */
@Injectable()
export class AttemptRunner {
  private readonly logger = new Logger(AttemptRunner.name);
  private readonly limit: ConcurrencyLimit;
  private readonly backlog: number;
  /** First attempts taken and not started. */
  private readonly waiting = new Set<string>();
  /** First attempts taken and not finished, waiting ones included. */
  private readonly taken = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly sender: WebhookSender,
    private readonly producer: WebhookProducer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limit = new ConcurrencyLimit(config.webhooks.concurrency);
    this.backlog = BACKLOG_PER_SLOT * config.webhooks.concurrency;
  }

  /** Makes the attempt a Bull job asks for; answers its outcome (null: there was none to make). */
  queued(deliveryId: string): Promise<AttemptOutcome | null> {
    return this.limit.run(() => this.sender.attempt(deliveryId), 'ahead');
  }

  /**
   * Takes the first attempts of newly committed deliveries, as many as fit
   * (a free slot starts one at once, else it waits in the backlog while
   * there is room); answers the ids it did not take, for Bull. Once
   * handOver() has run it takes none.
   */
  first(deliveryIds: string[]): string[] {
    if (this.closed) return deliveryIds;
    const left: string[] = [];
    for (const deliveryId of deliveryIds) {
      if (this.waiting.size >= this.backlog) {
        left.push(deliveryId);
        continue;
      }
      this.waiting.add(deliveryId);
      const attempt = this.limit.run(() => this.attemptFirst(deliveryId));
      this.taken.add(attempt);
      void attempt.finally(() => this.taken.delete(attempt));
    }
    return left;
  }

  /**
   * On SIGTERM: takes no more first attempts, and queues the ones not
   * started to Bull for the other workers, instead of leaving them to the
   * sweeper's grace (if Redis does not take them, the sweeper still will:
   * they are pending). Answers once they are queued.
   */
  async handOver(): Promise<void> {
    this.closed = true;
    const notStarted = [...this.waiting];
    this.waiting.clear();
    await this.producer.first(notStarted);
  }

  /** Answers once every first attempt taken has ended (one handed over ends, unmade, when it gets a slot). */
  async settled(): Promise<void> {
    await Promise.all(this.taken);
  }

  private async attemptFirst(deliveryId: string): Promise<void> {
    if (!this.waiting.delete(deliveryId)) return;
    try {
      await this.sender.attempt(deliveryId);
    } catch (error) {
      // The claim or the record failed (PostgreSQL): the delivery is pending or leased, the sweeper takes it.
      this.logger.warn(`First attempt of webhook delivery ${deliveryId} failed: ${(error as Error).message}`);
    }
  }
}
