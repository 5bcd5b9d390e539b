import { createTransport } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { MailTransport, OutboundMail, SmtpReply } from './mail-transport';

export interface SmtpTransportOptions {
  url: string;
  maxConnections: number;
}

/**
 * The real transport: a pooled nodemailer SMTP connection set on SMTP_URL
 * (smtps:// for TLS, credentials and nodemailer options in the URL). It hands
 * over bytes already composed and signed, to the one envelope recipient.
 */
export class SmtpTransport implements MailTransport {
  private readonly transporter: Mail;

  constructor(options: SmtpTransportOptions) {
    const url = new URL(options.url);
    url.searchParams.set('pool', 'true');
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
    this.transporter = createTransport(url.toString());
  }

  /** An abort takes the message out of the pool's queue, or closes the connection that is sending it. */
  async send(mail: OutboundMail, signal: AbortSignal): Promise<SmtpReply> {
    const info = await this.transporter.sendMail({
      envelope: { from: mail.envelope.from, to: [mail.envelope.to] },
      raw: mail.raw,
      signal,
    });
    const response = String(info.response ?? '');
    return { code: Number.parseInt(response.slice(0, 3), 10) || 250, response };
  }

  close(): void {
    this.transporter.close();
  }
}
