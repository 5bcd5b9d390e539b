import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GroupCommit, TtlCache, UnprocessableError } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AddressesService } from '../addresses/addresses.service';
import type { SenderAddress } from '../addresses/sender-address';
import { ContactsService } from '../contacts/contacts.service';
import { DeliveryProducer } from '../delivery/delivery.producer';
import { IdempotencyService, IdempotentRequest } from '../idempotency/idempotency.service';
import { AcceptedRequest, MessagesRepository } from '../messages/messages.repository';
import { AcceptedEmailDto, SendEmailDto, TAG_HEADER } from './dto/send-email.dto';
import { planRecipients, splitTag } from './recipients';

interface Acceptance {
  workspaceId: string;
  requestId?: string;
  dto: SendEmailDto;
  sender: SenderAddress;
  idempotencyKey: string | null;
}

/** Requests written by one statement at the most, and such statements at once. */
const BATCH = { maxBatch: 64, maxConcurrent: 4 };

/**
 * Accepts emails (SPEC §7): one message per unique recipient, stored with the
 * content before the answer, then queued.
 *
 * The hot path per request: the API key and the sender come from short-lived
 * caches (AUTH_CACHE_TTL_MS; delivery checks the sender again), and concurrent
 * requests are written by group commit: one contacts lookup, one insert
 * statement and one Redis call serve every request of a batch.
 */
@Injectable()
export class EmailsService {
  private readonly senders: TtlCache<string, SenderAddress>;
  private readonly accepts = new GroupCommit<Acceptance, AcceptedEmailDto>(
    (batch) => this.acceptBatch(batch),
    BATCH,
  );

  constructor(
    private readonly addresses: AddressesService,
    private readonly contacts: ContactsService,
    private readonly messages: MessagesRepository,
    private readonly producer: DeliveryProducer,
    private readonly idempotency: IdempotencyService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.senders = new TtlCache(config.authCacheTtlMs);
  }

  /**
   * With an idempotency key, a repeat of an earlier request answers that
   * request's result (`replayed`) and creates nothing.
   */
  async send(
    workspaceId: string,
    dto: SendEmailDto,
    idempotency: IdempotentRequest | null = null,
    requestId?: string,
  ): Promise<{ result: AcceptedEmailDto; replayed: boolean }> {
    if (idempotency) {
      const begun = await this.idempotency.begin(workspaceId, idempotency);
      if (begun.replay) return { result: begun.response as AcceptedEmailDto, replayed: true };
    }
    try {
      const sender = await this.sendableSender(workspaceId, dto.from);
      const result = await this.accepts.submit({
        workspaceId,
        requestId,
        dto,
        sender,
        idempotencyKey: idempotency?.key ?? null,
      });
      return { result, replayed: false };
    } catch (error) {
      if (idempotency) await this.idempotency.release(workspaceId, idempotency.key);
      throw error;
    }
  }

  private async sendableSender(workspaceId: string, from: string): Promise<SenderAddress> {
    const key = `${workspaceId} ${from}`;
    const cached = this.senders.get(key);
    if (cached) return cached;
    const sender = await this.addresses.findSendable(workspaceId, from);
    if (!sender) {
      throw new UnprocessableError(
        'sender_not_verified',
        `${from} is not a sendable address of this workspace: create it on a verified domain`,
      );
    }
    this.senders.set(key, sender);
    return sender;
  }

  /** Plans, stores and queues a batch of requests; one answer per request, in order. */
  private async acceptBatch(batch: Acceptance[]): Promise<AcceptedEmailDto[]> {
    const plans = batch.map((acceptance) => ({
      acceptance,
      recipients: planRecipients(acceptance.dto.to, acceptance.dto.bcc),
    }));
    const contacts = await this.contacts.findRecipients(
      plans.flatMap(({ acceptance, recipients }) =>
        recipients.map(({ email }) => ({ workspaceId: acceptance.workspaceId, email })),
      ),
    );
    let next = 0;
    const accepted = plans.map(({ acceptance, recipients }) => {
      const { workspaceId, dto, sender, idempotencyKey } = acceptance;
      const messages = recipients.map(({ email, type }) => {
        const contact = contacts[next++];
        return {
          id: randomUUID(),
          recipient: email,
          type,
          fromEmail: contact?.route?.email ?? sender.email,
          contactId: contact?.contactId ?? null,
        };
      });
      const result: AcceptedEmailDto = {
        accepted: true,
        message_count: messages.length,
        messages: messages.map((m) => ({
          uuid: m.id,
          recipient: m.recipient,
          type: m.type,
          from: m.fromEmail,
          status: 'pending',
        })),
      };
      const { headers, tag } = splitTag(dto.headers, TAG_HEADER);
      const request: AcceptedRequest = {
        id: randomUUID(),
        workspaceId,
        fromEmail: sender.email,
        subject: dto.subject,
        html: dto.html ?? null,
        text: dto.text ?? null,
        replyTo: dto.reply_to ?? null,
        toRecipients: recipients.filter((r) => r.type === 'to').map((r) => r.email),
        headers,
        tag,
        messages,
        idempotency: idempotencyKey ? { key: idempotencyKey, response: result } : null,
      };
      return { request, result, requestId: acceptance.requestId };
    });

    await this.messages.insertRequests(accepted.map((a) => a.request));
    await this.producer.enqueue(
      accepted.flatMap(({ request, requestId }) =>
        request.messages.map((m) => ({ messageId: m.id, requestId })),
      ),
    );
    return accepted.map((a) => a.result);
  }
}
