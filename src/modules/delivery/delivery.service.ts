import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { SharedLoads, withDeadline } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AddressesService } from '../addresses/addresses.service';
import { DomainsService } from '../addresses/domains.service';
import type { SenderAddress } from '../addresses/sender-address';
import { AttachmentsRepository } from '../messages/attachments.repository';
import { DeliverableMessage, MessageLifecycle } from '../messages/message-lifecycle';
import { MessagesRepository } from '../messages/messages.repository';
import { MetricsService } from '../metrics/metrics.service';
import { SuppressionsService } from '../suppressions/suppressions.service';
import { AttemptRecorder, DeliveryOutcome } from './attempt-recorder';
import { envelopeSender } from './envelope';
import { Lease } from './lease';
import { composeMime, Composition, copyOf, DkimKey, MimeAttachment } from './mime-composer';
import { composeRaw } from './raw-composer';
import { SimulatedDelivery } from './simulated-delivery';
import { classifySmtpError, FailedHandover, NO_REPLY, sanitizeReply } from './smtp-reply';
import { MAIL_TRANSPORT, MailTransport, OutboundMail, SmtpReply } from './transports/mail-transport';

/**
 * Longest a hand-over may take in all, whatever the relay does (nodemailer's
 * own timeouts are per stage). A send cut off by it is deferred like a timeout.
 */
const SEND_TIMEOUT_MS = 5 * 60_000;

/**
 * The attachments of a request are read once for all its recipients: kept
 * this long, for at most ATTACHMENT_CACHE_REQUESTS requests at a time (each
 * at most ~7.5 MB decoded, as a send body is at most 10 MB).
 */
const ATTACHMENT_CACHE_MS = 60_000;
const ATTACHMENT_CACHE_REQUESTS = 8;

/**
 * A request's composition (its signed bytes) is made once for all its
 * recipients: kept this long, for at most COMPOSITION_CACHE_REQUESTS
 * requests, and only when it is at most COMPOSITION_CACHE_MAX_BYTES (a larger
 * one is shared only by the copies that are composed while it is made).
 */
const COMPOSITION_CACHE_MS = 60_000;
const COMPOSITION_CACHE_REQUESTS = 128;
const COMPOSITION_CACHE_MAX_BYTES = 256 * 1024;

/** Outcomes after which a message cannot be delivered again (its request's bytes may go). */
const SETTLED_OUTCOMES: readonly DeliveryOutcome[] = ['sent', 'bounced', 'complained'];

/**
 * Delivers one message: claims it (so no other job can), keeps its lease while
 * it works, checks the suppression list and the sender, composes it (with its
 * request's attachments, when it has some), hands it to SMTP for its one
 * recipient and records the outcome through the message's lifecycle. A
 * message that settles lets its request's attachment bytes go if no other
 * message needs them.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);
  /** By request id, so messages of one request delivered at once share one read. */
  private readonly attachmentReads = new SharedLoads<string, MimeAttachment[]>(
    ATTACHMENT_CACHE_MS,
    ATTACHMENT_CACHE_REQUESTS,
  );
  /** By request, sender and signing key: what makes the bytes its copies share. */
  private readonly compositions = new SharedLoads<string, Composition>(
    COMPOSITION_CACHE_MS,
    COMPOSITION_CACHE_REQUESTS,
    (composition) => composition.bytes.length <= COMPOSITION_CACHE_MAX_BYTES,
  );

  constructor(
    private readonly lifecycle: MessageLifecycle,
    private readonly attachments: AttachmentsRepository,
    private readonly messages: MessagesRepository,
    private readonly addresses: AddressesService,
    private readonly domains: DomainsService,
    private readonly suppressions: SuppressionsService,
    private readonly recorder: AttemptRecorder,
    private readonly simulated: SimulatedDelivery,
    private readonly metrics: MetricsService,
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
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.run(message, lease, requestId);
    } finally {
      lease.stop();
    }
    if (outcome !== 'skipped') this.metrics.observeDelivery(outcome, (performance.now() - claimedAt) / 1000);
    const storesContent = message.attachmentCount > 0 || message.source === 'smtp';
    if (storesContent && SETTLED_OUTCOMES.includes(outcome)) {
      await this.attachments
        .release([message.requestId])
        .catch((error: Error) =>
          this.logger.warn(
            { messageId, requestId },
            `Dropping the stored content of request ${message.requestId} failed: ${error.message}`,
          ),
        );
    }
    return outcome;
  }

  private async run(message: DeliverableMessage, lease: Lease, requestId?: string): Promise<DeliveryOutcome> {
    if (message.test) return this.simulated.simulate(message, lease);
    const { attempt } = message;
    const [suppressed, sender] = await Promise.all([
      this.suppressions.isSuppressed(message.workspaceId, message.recipient),
      this.addresses.findSendable(message.workspaceId, message.fromEmail),
    ]);
    if (suppressed) {
      const detail = { attempt, reason: 'recipient is on the suppression list' };
      return this.recorder.record(message, lease, 'suppressed', () =>
        this.lifecycle.suppress(message, detail),
      );
    }
    if (!sender) {
      const detail = {
        attempt,
        reason: `sender ${message.fromEmail} is no longer a sendable address of the workspace`,
      };
      return this.recorder.record(message, lease, 'failed', () => this.lifecycle.fail(message, detail));
    }

    const handover = await this.handOver(message, sender, lease, requestId);
    if (handover === 'stopped') return 'skipped';
    if ('kind' in handover) return this.recordFailure(message, lease, handover);
    const detail = { attempt, smtp_code: handover.code, smtp_response: sanitizeReply(handover.response) };
    return this.recorder.record(message, lease, 'sent', () => this.lifecycle.markSent(message, detail));
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
      return await withDeadline(lease.signal, SEND_TIMEOUT_MS, (signal) => this.transport.send(mail, signal));
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
      return this.recorder.record(message, lease, 'bounced', () =>
        this.lifecycle.bounce(message, detail, { suppress: failure.suppress }),
      );
    }
    if (attempt >= this.config.delivery.maxAttempts) {
      const final = { ...detail, reason: `no success after ${attempt} attempts` };
      return this.recorder.record(message, lease, 'failed', () => this.lifecycle.fail(message, final));
    }
    return this.recorder.defer(message, lease, detail);
  }

  private async compose(message: DeliverableMessage, sender: SenderAddress): Promise<OutboundMail> {
    const envelope = { from: envelopeSender(message, sender, this.config.bounce), to: message.recipient };
    const key = await this.domains.getSigningKey(message.workspaceId, sender.domainId);
    const shared = [message.requestId, sender.email, sender.name, key?.domainName, key?.selector].join('\n');
    const composition = await this.compositions.get(shared, () => this.composeRequest(message, sender, key));
    const messageId = `<${message.messageId}@${sender.domainName}>`;
    return { envelope, raw: copyOf(composition, messageId), messageId };
  }

  /** The bytes every copy of the message's request shares, sent from `sender` and signed with `key`. */
  private async composeRequest(
    message: DeliverableMessage,
    sender: SenderAddress,
    dkim: DkimKey | null,
  ): Promise<Composition> {
    const from = { name: sender.name, address: sender.email };
    if (message.source === 'smtp') {
      const raw = await this.messages.rawContent(message.messageId);
      if (!raw) throw new Error('its raw content is missing');
      return composeRaw(raw, { from, date: new Date() }, dkim);
    }
    const attachments = message.attachmentCount > 0 ? await this.attachmentsOf(message.requestId) : undefined;
    const { toRecipients: to, replyTo, subject, html, text, headers } = message;
    return composeMime({ from, to, replyTo, subject, html, text, headers, attachments }, dkim);
  }

  private attachmentsOf(requestId: string): Promise<MimeAttachment[]> {
    return this.attachmentReads.get(requestId, async () =>
      (await this.attachments.contentOf(requestId)).map(({ filename, contentType, contentId, content }) => ({
        filename,
        contentType,
        content,
        ...(contentId ? { contentId } : {}),
      })),
    );
  }
}
