import type { SenderAddress } from '../addresses/sender-address';
import type { Recipient as Contact } from '../contacts/contacts.service';
import type { AcceptedRequest } from '../messages/messages.repository';
import type { AcceptedEmailDto } from './dto/send-email.dto';
import type { Recipient, SendCommand } from './send-command';

/** One command to store, with the ids of its work given once, before anything is tried. */
export interface PlannedSend {
  /** The email request's id. */
  id: string;
  command: SendCommand;
  recipients: (Recipient & { id: string })[];
  /** The sendable address `command.from` names. */
  sender: SenderAddress;
}

/**
 * One call of accept(): its commands are stored together or not at all, and
 * its idempotency key (one for the whole call) is owned by the call's id.
 */
export interface Call {
  id: string;
  workspaceId: string;
  /** The HTTP request's id, carried into job data for the logs. */
  requestId?: string;
  sends: PlannedSend[];
  idempotencyKey: string | null;
  /** Whether the key remembers the answers as a list (a batch) or the one answer of a single send. */
  batch: boolean;
}

/**
 * Characters of the content a call stores (attachment and raw bytes twice: they
 * travel as hex): what its statement and its wait cost.
 */
export function contentSize({ sends }: Call): number {
  let size = 0;
  for (const { command, recipients } of sends) {
    size += command.subject.length + (command.html?.length ?? 0) + (command.text?.length ?? 0);
    size += command.replyTo?.length ?? 0;
    for (const [name, value] of Object.entries(command.headers)) size += name.length + value.length;
    for (const { email } of recipients) size += email.length;
    for (const { content } of command.attachments) size += 2 * content.length;
    size += 2 * (command.raw?.length ?? 0);
  }
  return size;
}

/**
 * The rows to store for a send and its answer, given the contact (if any) of
 * each of its recipients, in order: a linked contact whose route is sendable
 * is sent from that address, everyone else from the request's sender. A send
 * scheduled after `now` is `scheduled`, any other `pending`.
 */
export function toAcceptedRequest(
  { id, command, recipients, sender }: PlannedSend,
  contacts: (Contact | null)[],
  now: Date,
): { request: AcceptedRequest; result: AcceptedEmailDto } {
  const status = command.scheduledAt && command.scheduledAt > now ? 'scheduled' : 'pending';
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
      status,
    })),
  };
  const request: AcceptedRequest = {
    id,
    workspaceId: command.workspaceId,
    source: command.source,
    test: command.test,
    fromEmail: sender.email,
    subject: command.subject,
    html: command.html,
    text: command.text,
    replyTo: command.replyTo,
    toRecipients: recipients.filter((r) => r.type === 'to').map((r) => r.email),
    headers: command.headers,
    tag: command.tag,
    attachments: command.attachments,
    raw: command.raw ?? null,
    status,
    scheduledAt: command.scheduledAt,
    messages,
  };
  return { request, result };
}
