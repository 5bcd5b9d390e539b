import type MailMessage from 'nodemailer/lib/mailer/mail-message';
import SMTPPool, { SMTPPoolSentMessageInfo } from 'nodemailer/lib/smtp-pool';
import { Readable } from 'node:stream';
import type { MailTransport, OutboundMail, SmtpReply } from './mail-transport';

export interface SmtpTransportOptions {
  url: string;
  maxConnections: number;
}

/**
 * The real transport: nodemailer's SMTP connection pool set on SMTP_URL
 * (smtps:// for TLS, credentials and nodemailer options in the URL). It hands
 * over bytes already composed and signed, to the one envelope recipient.
 *
 * The pool is used as a nodemailer transport (its `send(mail, callback)`)
 * without nodemailer's Mailer in front: the Mailer would build a MimeNode
 * around the finished bytes of every copy only to stream them out unchanged,
 * which cost more CPU than the SMTP conversation itself.
 */
export class SmtpTransport implements MailTransport {
  private readonly pool: SMTPPool;

  constructor(options: SmtpTransportOptions) {
    const url = new URL(options.url);
    url.searchParams.set('maxConnections', String(options.maxConnections));
    url.searchParams.set('maxMessages', 'Infinity');
    // Closing a connection destroys its socket: a send aborted mid-DATA must not
    // flush the rest of the message (and its final dot) to the relay afterwards.
    url.searchParams.set('socketCloseTimeout', '0');
    for (const [name, ms] of [
      ['connectionTimeout', 10000],
      ['greetingTimeout', 10000],
      ['socketTimeout', 60000],
    ] as const) {
      if (!url.searchParams.has(name)) url.searchParams.set(name, String(ms));
    }
    this.pool = new SMTPPool(url.toString());
  }

  /** An abort takes the message out of the pool's queue, or closes the connection that is sending it. */
  send(mail: OutboundMail, signal: AbortSignal): Promise<SmtpReply> {
    return new Promise((resolve, reject) => {
      this.pool.send(composedMessage(mail, signal), (error, info) => {
        if (error) return reject(error);
        const response = String(info?.response ?? '');
        resolve({ code: Number.parseInt(response.slice(0, 3), 10) || 250, response });
      });
    });
  }

  close(): void {
    this.pool.close();
  }
}

/**
 * What a nodemailer transport reads of the message it sends (`data` and the
 * part of `message`, a MimeNode, that the pool calls): the envelope, the
 * Message-ID for its logs and the bytes, as they are.
 */
function composedMessage(
  { envelope, raw, messageId }: OutboundMail,
  signal: AbortSignal,
): MailMessage<SMTPPoolSentMessageInfo> {
  const message = {
    getEnvelope: () => ({ from: envelope.from, to: [envelope.to] }),
    messageId: () => messageId,
    getHeader: (name: string) => (name.toLowerCase() === 'message-id' ? messageId : undefined),
    createReadStream: () =>
      new Readable({
        read() {
          this.push(raw);
          this.push(null);
        },
      }),
  };
  return { data: { signal }, message } as unknown as MailMessage<SMTPPoolSentMessageInfo>;
}
