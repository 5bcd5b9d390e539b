import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DeliverableMessage, MessageEvent, MessageLifecycle } from '../messages/message-lifecycle';
import { DeliveryJobId } from './delivery.jobs';
import { DeliveryProducer } from './delivery.producer';
import { Lease } from './lease';
import { retryDelayMs } from './smtp-reply';

/** What one job did with its message. */
export type DeliveryOutcome =
  'skipped' | 'sent' | 'deferred' | 'bounced' | 'failed' | 'suppressed' | 'complained';
type Ended = Exclude<DeliveryOutcome, 'skipped'>;

/** First pause before writing an outcome again after a database error; doubles up to the maximum. */
const RECORD_RETRY_MS = 100;
const RECORD_RETRY_MAX_MS = 2000;

/** Writes how a delivery attempt ended, through the message's lifecycle, for as long as the attempt holds its lease. */
@Injectable()
export class AttemptRecorder {
  private readonly logger = new Logger(AttemptRecorder.name);

  constructor(
    private readonly lifecycle: MessageLifecycle,
    private readonly producer: DeliveryProducer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Records the attempt's outcome with `write`, a lifecycle transition. A
   * database error is retried for as long as the lease lasts (the lease keeps
   * being renewed meanwhile): once the relay answered, giving up early would
   * leave the message `sending` and make another worker send it again. A
   * write whose answer was lost may have committed, so a retry that finds
   * nothing to update checks for that. An outcome that comes too late (the
   * message is another attempt's) is only logged.
   */
  async record(
    message: DeliverableMessage,
    lease: Lease,
    status: Ended,
    write: () => Promise<MessageEvent | null>,
  ): Promise<DeliveryOutcome> {
    const { messageId, attempt } = message;
    let pauseMs = RECORD_RETRY_MS;
    let retried = false;
    for (;;) {
      try {
        const recorded =
          (await write()) !== null || (retried && (await this.lifecycle.endedAs(message, status)));
        if (recorded) return status;
        this.logger.warn(
          { messageId, attempt, status },
          `Message ${messageId} attempt ${attempt} ended ${status} after its lease was taken over`,
        );
        return 'skipped';
      } catch (error) {
        if (lease.lost || lease.remainingMs() < pauseMs) throw error;
        this.logger.warn(
          { messageId, attempt, status },
          `Recording ${status} failed, retrying: ${(error as Error).message}`,
        );
        retried = true;
        await sleep(pauseMs);
        pauseMs = Math.min(pauseMs * 2, RECORD_RETRY_MAX_MS);
      }
    }
  }

  /** Defers the attempt and queues the next one after the backoff. */
  async defer(
    message: DeliverableMessage,
    lease: Lease,
    detail: Record<string, unknown>,
  ): Promise<DeliveryOutcome> {
    const { attempt } = message;
    const delayMs = retryDelayMs(this.config.delivery.backoffMs, attempt);
    const nextAttemptAt = new Date(Date.now() + delayMs);
    const deferred = { ...detail, next_attempt_at: nextAttemptAt.toISOString() };
    const outcome = await this.record(message, lease, 'deferred', () =>
      this.lifecycle.defer(message, deferred, nextAttemptAt),
    );
    if (outcome === 'deferred') {
      await this.producer.add([
        { messageId: message.messageId, jobId: DeliveryJobId.retry(message.messageId, attempt + 1), delayMs },
      ]);
    }
    return outcome;
  }
}
