import type { SenderAddress } from '../addresses/sender-address';
import type { DeliverableMessage } from '../messages/message-lifecycle';

/** The SMTP envelope sender (`MAIL FROM`) of a message: where the relay and receivers report rejections. */
export function envelopeSender(_message: DeliverableMessage, sender: SenderAddress): string {
  return sender.email;
}
