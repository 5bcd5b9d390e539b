import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { UnprocessableError } from '@app/common';
import { AddressesService } from '../addresses/addresses.service';
import { ContactsService } from '../contacts/contacts.service';
import { DeliveryProducer } from '../delivery/delivery.producer';
import { IdempotencyService, IdempotentRequest } from '../idempotency/idempotency.service';
import { MessagesRepository, NewMessage } from '../messages/messages.repository';
import { AcceptedEmailDto, SendEmailDto, TAG_HEADER } from './dto/send-email.dto';
import { planRecipients, splitTag } from './recipients';

/**
 * Accepts an email (SPEC §7): one message per unique recipient, stored with
 * the content in one statement before the answer, then queued. The hot path
 * is one query for the sender, one for contacts, one write, one Redis call.
 */
@Injectable()
export class EmailsService {
  constructor(
    private readonly addresses: AddressesService,
    private readonly contacts: ContactsService,
    private readonly messages: MessagesRepository,
    private readonly producer: DeliveryProducer,
    private readonly idempotency: IdempotencyService,
  ) {}

  /**
   * With an idempotency key, a repeat of an earlier request answers that
   * request's result (`replayed`) and creates nothing.
   */
  async send(
    workspaceId: string,
    dto: SendEmailDto,
    idempotency: IdempotentRequest | null = null,
  ): Promise<{ result: AcceptedEmailDto; replayed: boolean }> {
    if (idempotency) {
      const begun = await this.idempotency.begin(workspaceId, idempotency);
      if (begun.replay) return { result: begun.response as AcceptedEmailDto, replayed: true };
    }
    try {
      return { result: await this.accept(workspaceId, dto, idempotency?.key ?? null), replayed: false };
    } catch (error) {
      if (idempotency) await this.idempotency.release(workspaceId, idempotency.key);
      throw error;
    }
  }

  private async accept(
    workspaceId: string,
    dto: SendEmailDto,
    idempotencyKey: string | null,
  ): Promise<AcceptedEmailDto> {
    const sender = await this.addresses.findSendable(workspaceId, dto.from);
    if (!sender) {
      throw new UnprocessableError(
        'sender_not_verified',
        `${dto.from} is not a sendable address of this workspace: create it on a verified domain`,
      );
    }
    const recipients = planRecipients(dto.to, dto.bcc);
    const contacts = await this.contacts.findRecipients(
      workspaceId,
      recipients.map((r) => r.email),
    );
    const messages: NewMessage[] = recipients.map(({ email, type }) => {
      const contact = contacts.get(email);
      return {
        id: randomUUID(),
        recipient: email,
        type,
        fromEmail: contact?.route?.email ?? sender.email,
        contactId: contact?.contactId ?? null,
      };
    });
    const { headers, tag } = splitTag(dto.headers, TAG_HEADER);
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

    await this.messages.insertRequest(
      {
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
      },
      messages,
      idempotencyKey ? { key: idempotencyKey, response: result } : null,
    );
    await this.producer.enqueue(messages.map((m) => m.id));
    return result;
  }
}
