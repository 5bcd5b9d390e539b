import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AddressesService } from '../addresses/addresses.service';
import { MessagesRepository, DeliverableMessage } from '../messages/messages.repository';
import { SuppressionsService } from '../suppressions/suppressions.service';
import { DeliveryJobId } from './delivery.jobs';
import { DeliveryProducer } from './delivery.producer';
import { SigningKeys } from './signing-keys';
import { classifySmtpError, retryDelayMs } from './smtp-reply';
import { MAIL_TRANSPORT, MailTransport, OutboundMail } from './transports/mail-transport';
import type { SenderAddress } from '../addresses/sender-address';

/** What one job did with its message. */
export type DeliveryOutcome = 'skipped' | 'sent' | 'deferred' | 'bounced' | 'failed' | 'suppressed';

/**
 * Delivers one message: claims it (so no other job can), checks the
 * suppression list and the sender, hands it to SMTP for its one recipient and
 * records the outcome as the message's next status and event.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly messages: MessagesRepository,
    private readonly addresses: AddressesService,
    private readonly suppressions: SuppressionsService,
    private readonly signingKeys: SigningKeys,
    private readonly producer: DeliveryProducer,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async deliver(messageId: string, requestId?: string): Promise<DeliveryOutcome> {
    const outcome = await this.attempt(messageId);
    if (outcome !== 'skipped')
      this.logger.log({ messageId, requestId, outcome }, `Message ${messageId} ${outcome}`);
    return outcome;
  }

  private async attempt(messageId: string): Promise<DeliveryOutcome> {
    const message = await this.messages.claim(messageId, this.config.delivery.leaseMs);
    if (!message) return 'skipped';
    const { attempt } = message;

    if (message.suppressed) {
      return this.finish(message, 'suppressed', { attempt, reason: 'recipient is on the suppression list' });
    }
    const sender = await this.addresses.findSendable(message.workspaceId, message.fromEmail);
    if (!sender) {
      return this.finish(message, 'failed', {
        attempt,
        reason: `sender ${message.fromEmail} is no longer a sendable address of the workspace`,
      });
    }

    try {
      const reply = await this.transport.send(await this.compose(message, sender));
      return this.finish(message, 'sent', { attempt, smtp_code: reply.code, smtp_response: reply.response });
    } catch (error) {
      const failure = classifySmtpError(error);
      const detail = { attempt, smtp_code: failure.code, smtp_response: failure.response };
      if (failure.kind === 'bounce') {
        await this.suppressions.add(message.workspaceId, message.recipient, 'hard_bounce');
        return this.finish(message, 'bounced', detail);
      }
      if (attempt >= this.config.delivery.maxAttempts) {
        return this.finish(message, 'failed', { ...detail, reason: `no success after ${attempt} attempts` });
      }
      const delayMs = retryDelayMs(this.config.delivery.backoffMs, attempt);
      const nextAttemptAt = new Date(Date.now() + delayMs);
      const outcome = await this.finish(
        message,
        'deferred',
        { ...detail, next_attempt_at: nextAttemptAt.toISOString() },
        nextAttemptAt,
      );
      if (outcome === 'deferred') {
        await this.producer.add([{ messageId, jobId: DeliveryJobId.retry(messageId, attempt + 1), delayMs }]);
      }
      return outcome;
    }
  }

  private async compose(message: DeliverableMessage, sender: SenderAddress): Promise<OutboundMail> {
    const key = await this.signingKeys.get(message.workspaceId, sender.domainId);
    return {
      envelope: { from: sender.email, to: message.recipient },
      from: { name: sender.name, address: sender.email },
      to: message.toRecipients,
      replyTo: message.replyTo,
      subject: message.subject,
      html: message.html,
      text: message.text,
      messageId: `<${message.id}@${sender.domainName}>`,
      headers: message.headers,
      dkim: key && { domainName: key.domainName, keySelector: key.selector, privateKey: key.privateKey },
    };
  }

  private async finish(
    message: DeliverableMessage,
    status: Exclude<DeliveryOutcome, 'skipped'>,
    detail: Record<string, unknown>,
    nextAttemptAt: Date | null = null,
  ): Promise<DeliveryOutcome> {
    const recorded = await this.messages.finishAttempt(
      message.id,
      message.attempt,
      status,
      detail,
      nextAttemptAt,
    );
    if (!recorded) {
      this.logger.warn(
        `Message ${message.id} attempt ${message.attempt} ended ${status} after its lease expired`,
      );
      await this.messages.note(message.id, 'late_outcome', { ...detail, status });
      return 'skipped';
    }
    return status;
  }
}
