import type { SenderAddress } from '../addresses/sender-address';
import type { Recipient as Contact } from '../contacts/contacts.service';
import type { AcceptedRequest } from '../messages/messages.repository';
import { AcceptedEmailDto, SendEmailDto, TAG_HEADER } from './dto/send-email.dto';
import { Recipient, splitTag } from './recipients';

/** A request to store, with the ids of its work given once, before anything is tried. */
export interface Acceptance {
  /** The email request's id, also the owner of its idempotency key. */
  id: string;
  workspaceId: string;
  /** The HTTP request's id, carried into job data for the logs. */
  requestId?: string;
  dto: SendEmailDto;
  recipients: (Recipient & { id: string })[];
  sender: SenderAddress;
  idempotencyKey: string | null;
}

/** Characters of the content a request stores: what its statement and its wait cost. */
export function contentSize({ dto, recipients }: Acceptance): number {
  let size = dto.subject.length + (dto.html?.length ?? 0) + (dto.text?.length ?? 0);
  size += dto.reply_to?.length ?? 0;
  for (const [name, value] of Object.entries(dto.headers ?? {})) size += name.length + value.length;
  for (const { email } of recipients) size += email.length;
  return size;
}

/**
 * The rows to store for a request and its answer, given the contact (if any)
 * of each of its recipients, in order: a linked contact whose route is
 * sendable is sent from that address, everyone else from the request's sender.
 */
export function toAcceptedRequest(
  acceptance: Acceptance,
  contacts: (Contact | null)[],
): { request: AcceptedRequest; result: AcceptedEmailDto } {
  const { id, workspaceId, dto, recipients, sender, idempotencyKey } = acceptance;
  const messages = recipients.map(({ id: messageId, email, type }, i) => ({
    id: messageId,
    recipient: email,
    type,
    fromEmail: contacts[i]?.route?.email ?? sender.email,
    contactId: contacts[i]?.contactId ?? null,
  }));
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
    id,
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
  return { request, result };
}
