import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AddressesService } from '../addresses/addresses.service';
import { DomainsService } from '../addresses/domains.service';
import type { SenderAddress } from '../addresses/sender-address';
import { DeliverableMessage, MessageEvent, MessageLifecycle } from '../messages/message-lifecycle';
import { SuppressionsService } from '../suppressions/suppressions.service';
import { DeliveryJobId } from './delivery.jobs';
import { DeliveryProducer } from './delivery.producer';
import { envelopeSender } from './envelope';
import { Lease } from './lease';
import { composeMime } from './mime-composer';
import { classifySmtpError, FailedHandover, NO_REPLY, retryDelayMs, sanitizeReply } from './smtp-reply';
import { simulatedOutcome } from './test-mode';
import { MAIL_TRANSPORT, MailTransport, OutboundMail, SmtpReply } from './transports/mail-transport';

/** What one job did with its message. */
export type DeliveryOutcome =
  'skipped' | 'sent' | 'deferred' | 'bounced' | 'failed' | 'suppressed' | 'complained';
type Ended = Exclude<DeliveryOutcome, 'skipped'>;

/**
 * Longest a hand-over may take in all, whatever the relay does (nodemailer's
 * own timeouts are per stage). A send cut off by it is deferred like a timeout.
 */
const SEND_TIMEOUT_MS = 5 * 60_000;

/** First pause before writing an outcome again after a database error; doubles up to the maximum. */
const RECORD_RETRY_MS = 100;
const RECORD_RETRY_MAX_MS = 2000;

/**
 * Delivers one message: claims it (so no other job can), keeps its lease while
 * it works, checks the suppression list and the sender, composes it, hands it
 * to SMTP for its one recipient and records the outcome through the
 * message's lifecycle.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly lifecycle: MessageLifecycle,
    private readonly addresses: AddressesService,
    private readonly domains: DomainsService,
    private readonly suppressions: SuppressionsService,
    private readonly producer: DeliveryProducer,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async deliver(messageId: string, requestId?: string): Promise<DeliveryOutcome> {
    const outcome = await this.attempt(messageId, requestId).catch((error: Error) => {
      this.logger.error({ messageId, requestId }, `Message ${messageId}: delivery stopped: ${error.message}`);
      throw error;
    });
    if (outcome !== 'skipped')
      this.logger.log({ messageId, requestId, outcome }, `Message ${messageId} ${outcome}`);
    return outcome;
  }

  private async attempt(messageId: string, requestId?: string): Promise<DeliveryOutcome> {
    const { leaseMs, maxAttempts } = this.config.delivery;
    const claimedAt = performance.now();
    const claim = await this.lifecycle.claim(messageId, leaseMs, maxAttempts);
    if (!claim) return 'skipped';
    if (claim.kind === 'abandoned') return 'failed';
    const { message } = claim;
    const lease = new Lease(
      () => this.lifecycle.renewLease(message, leaseMs),
      leaseMs,
      claimedAt,
      (error) =>
        this.logger.warn({ messageId, requestId }, `Lease renewal failed: ${(error as Error).message}`),
    );
    try {
      return await this.run(message, lease, requestId);
    } finally {
      lease.stop();
    }
  }

  private async run(message: DeliverableMessage, lease: Lease, requestId?: string): Promise<DeliveryOutcome> {
    if (message.test) return this.simulate(message, lease);
    const { attempt } = message;
    const [suppressed, sender] = await Promise.all([
      this.suppressions.isSuppressed(message.workspaceId, message.recipient),
      this.addresses.findSendable(message.workspaceId, message.fromEmail),
    ]);
    if (suppressed) {
      const detail = { attempt, reason: 'recipient is on the suppression list' };
      return this.record(message, lease, 'suppressed', () => this.lifecycle.suppress(message, detail));
    }
    if (!sender) {
      const detail = {
        attempt,
        reason: `sender ${message.fromEmail} is no longer a sendable address of the workspace`,
      };
      return this.record(message, lease, 'failed', () => this.lifecycle.fail(message, detail));
    }

    const handover = await this.handOver(message, sender, lease, requestId);
    if (handover === 'stopped') return 'skipped';
    if ('kind' in handover) return this.recordFailure(message, lease, handover);
    const detail = { attempt, smtp_code: handover.code, smtp_response: sanitizeReply(handover.response) };
    return this.record(message, lease, 'sent', () => this.lifecycle.markSent(message, detail));
  }

  /**
   * The SMTP hand-over, never longer than the lease: when the lease is lost or
   * about to run out the send is aborted (its connection closed, so it cannot
   * complete later) and the attempt records nothing ('stopped'); the attempt
   * that takes the message over is marked `recovered`, since this one may have
   * reached the relay.
   */
  private async handOver(
    message: DeliverableMessage,
    sender: SenderAddress,
    lease: Lease,
    requestId?: string,
  ): Promise<SmtpReply | FailedHandover | 'stopped'> {
    const context = { messageId: message.messageId, requestId, attempt: message.attempt };
    let mail: OutboundMail;
    try {
      mail = await this.compose(message, sender);
    } catch (error) {
      this.logger.warn(
        context,
        `Message ${message.messageId} could not be prepared: ${(error as Error).message}`,
      );
      return { kind: 'retry', code: null, response: NO_REPLY.preparation };
    }
    try {
      const signal = AbortSignal.any([lease.signal, AbortSignal.timeout(SEND_TIMEOUT_MS)]);
      return await this.transport.send(mail, signal);
    } catch (error) {
      if (lease.signal.aborted) {
        this.logger.warn(context, `Message ${message.messageId} send stopped: lease ${lease.signal.reason}`);
        return 'stopped';
      }
      const failure = classifySmtpError(error);
      if (failure.code === null) {
        this.logger.warn(
          context,
          `Message ${message.messageId} hand-over failed: ${(error as Error).message}`,
        );
      }
      return failure;
    }
  }

  private async recordFailure(
    message: DeliverableMessage,
    lease: Lease,
    failure: FailedHandover,
  ): Promise<DeliveryOutcome> {
    const { attempt } = message;
    const detail = { attempt, smtp_code: failure.code, smtp_response: failure.response };
    if (failure.kind === 'bounce') {
      return this.record(message, lease, 'bounced', () =>
        this.lifecycle.bounce(message, detail, { suppress: failure.suppress }),
      );
    }
    if (attempt >= this.config.delivery.maxAttempts) {
      const final = { ...detail, reason: `no success after ${attempt} attempts` };
      return this.record(message, lease, 'failed', () => this.lifecycle.fail(message, final));
    }
    return this.defer(message, lease, detail);
  }

  /** Defers the attempt and queues the next one after the backoff. */
  private async defer(
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

  /**
   * A test message (SPEC §14): the outcome its recipient's local part names,
   * through the same transitions and events as a real delivery, without SMTP
   * and without touching the suppression list.
   */
  private async simulate(message: DeliverableMessage, lease: Lease): Promise<DeliveryOutcome> {
    const { attempt } = message;
    const reply = (code: number, text: string) => ({
      attempt,
      smtp_code: code,
      smtp_response: `${code} ${text} (test mode)`,
      test: true,
    });
    const outcome = simulatedOutcome(message.recipient, attempt);
    if (outcome === 'suppressed') {
      const detail = { attempt, reason: 'recipient is on the suppression list (test mode)', test: true };
      return this.record(message, lease, 'suppressed', () => this.lifecycle.suppress(message, detail));
    }
    if (outcome === 'bounced') {
      const detail = reply(550, '5.1.1 simulated bounce');
      return this.record(message, lease, 'bounced', () => this.lifecycle.bounce(message, detail));
    }
    if (outcome === 'deferred') return this.defer(message, lease, reply(451, '4.0.0 simulated deferral'));
    const detail = reply(250, 'simulated delivery');
    const sent = await this.record(message, lease, 'sent', () => this.lifecycle.markSent(message, detail));
    if (sent !== 'sent' || outcome !== 'complained') return sent;
    const complaint = { feedback_type: 'abuse', test: true };
    return this.record(message, lease, 'complained', () =>
      this.lifecycle.complain(message.messageId, complaint),
    );
  }

  private async compose(message: DeliverableMessage, sender: SenderAddress): Promise<OutboundMail> {
    const key = await this.domains.getSigningKey(message.workspaceId, sender.domainId);
    const raw = await composeMime(
      {
        from: { name: sender.name, address: sender.email },
        to: message.toRecipients,
        replyTo: message.replyTo,
        subject: message.subject,
        html: message.html,
        text: message.text,
        messageId: `<${message.messageId}@${sender.domainName}>`,
        headers: message.headers,
      },
      key,
    );
    return { envelope: { from: envelopeSender(message, sender), to: message.recipient }, raw };
  }

  /**
   * Records the attempt's outcome with `write`, a lifecycle transition. A
   * database error is retried for as long as the lease lasts (the lease keeps
   * being renewed meanwhile): once the relay answered, giving up early would
   * leave the message `sending` and make another worker send it again. A
   * write whose answer was lost may have committed, so a retry that finds
   * nothing to update checks for that. An outcome that comes too late (the
   * message is another attempt's) is only logged.
   */
  private async record(
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
}
