import { Inject, Injectable, Logger } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { openSecret, TtlCache } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { MetricsService } from '../metrics/metrics.service';
import { outcomeOf } from './attempt-outcome';
import type { AttemptOutcome } from './dto/webhook.dto';
import { signatureHeader, signingKey } from './signature';
import { checkTarget, RefusedUrlError } from './url-safety';
import { PostResult, WebhookClient } from './webhook-client';
import { ClaimedDelivery, WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { webhookId } from './webhook-events';
import { WebhookProducer } from './webhook.producer';

/** Signing keys kept opened: at most this many, each for an hour (the oldest go first). */
const MAX_KEYS = 1000;
const KEY_TTL_MS = 60 * 60_000;

/** Past the two timeouts (resolving, answering) an attempt may take, how long its lease still holds. */
const LEASE_MARGIN_MS = 5_000;

/**
 * One attempt of one delivery: claim it (only one worker can), check the
 * URL's address again and post to that address, signed as the Standard
 * Webhooks specification says, then record the outcome and queue the retry.
 */
@Injectable()
export class WebhookSender {
  private readonly logger = new Logger(WebhookSender.name);
  /** Signing keys by sealed secret, opened once: the attempts of an endpoint share one (a new secret seals anew). */
  private readonly keys = new TtlCache<string, KeyObject>(KEY_TTL_MS, MAX_KEYS);

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly producer: WebhookProducer,
    private readonly client: WebhookClient,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Makes the delivery's next attempt; answers its outcome, or null when there was none to make. */
  async attempt(deliveryId: string): Promise<AttemptOutcome | null> {
    const { timeoutMs, retryScheduleMs } = this.config.webhooks;
    const claim = await this.deliveries.claim(deliveryId, 2 * timeoutMs + LEASE_MARGIN_MS);
    if (claim.interrupted) this.recordOutcome('failure', deliveryId);
    const delivery = claim.delivery;
    if (!delivery) return null;
    const at = new Date();
    const result = await this.post(delivery, Math.floor(at.getTime() / 1000));
    const { outcome, error, nextAttemptAt } = outcomeOf(
      result,
      delivery.attempt,
      retryScheduleMs,
      new Date(),
      Math.random(),
    );
    const recorded = await this.deliveries.settle(delivery, {
      outcome,
      statusCode: result.statusCode,
      error,
      at,
      nextAttemptAt,
    });
    if (!recorded) return null;
    this.recordOutcome(outcome, deliveryId);
    if (nextAttemptAt) await this.producer.retry(delivery.id, delivery.attempt + 1, nextAttemptAt);
    return outcome;
  }

  /**
   * Every attempt outcome that was recorded passes here once: `success`,
   * `failure` (retried; also an attempt cut short by a dead worker),
   * `gave_up` (the schedule is used up), `disabled` (410); it is counted in
   * `leadpush_webhook_deliveries_total`.
   */
  private recordOutcome(outcome: AttemptOutcome, deliveryId: string): void {
    this.metrics.countWebhookDelivery(outcome);
    if (outcome === 'gave_up' || outcome === 'disabled') {
      this.logger.warn(
        `Webhook delivery ${deliveryId}: ${outcome === 'gave_up' ? 'given up' : 'endpoint disabled (410)'}`,
      );
    }
  }

  private signingKeyOf(sealedSecret: string): KeyObject {
    let key = this.keys.get(sealedSecret);
    if (!key) {
      key = signingKey(openSecret(sealedSecret, this.config.dkimEncryptionKey));
      this.keys.set(sealedSecret, key);
    }
    return key;
  }

  private async post(delivery: ClaimedDelivery, timestamp: number): Promise<PostResult> {
    const { allowPrivate, timeoutMs } = this.config.webhooks;
    let key: KeyObject;
    try {
      key = this.signingKeyOf(delivery.sealedSecret);
    } catch {
      return {
        statusCode: null,
        error: 'the signing secret cannot be opened (was DKIM_ENCRYPTION_KEY changed?)',
      };
    }
    let target;
    try {
      target = await checkTarget(delivery.url, { allowPrivate, timeoutMs });
    } catch (error) {
      if (error instanceof RefusedUrlError)
        return { statusCode: null, error: `refused: ${error.message}`.slice(0, 200) };
      throw error;
    }
    const id = webhookId(delivery.eventId);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Leadpush-Webhooks/1',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(key, id, timestamp, delivery.payload),
    };
    return this.client.post(target, headers, delivery.payload, timeoutMs);
  }
}
