import { createTransport } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';
import type { MailTransport, OutboundMail, SmtpReply } from './mail-transport';

/**
 * The To header of a message with no visible recipients. nodemailer would
 * quote the group name, so this one header line is added to the built message.
 */
const UNDISCLOSED_TO = Buffer.from('To: undisclosed-recipients:;\r\n');

export interface SmtpTransportOptions {
  url: string;
  maxConnections: number;
}

/**
 * The real transport: a pooled nodemailer SMTP connection set on SMTP_URL
 * (smtps:// for TLS, credentials and nodemailer options in the URL). nodemailer
 * builds the MIME and signs it with the sender domain's DKIM key.
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
      raw: await this.build(mail),
      dkim: mail.dkim ?? undefined,
      signal,
    });
    const response = String(info.response ?? '');
    return { code: Number.parseInt(response.slice(0, 3), 10) || 250, response };
  }

  close(): void {
    this.transporter.close();
  }

  private async build(mail: OutboundMail): Promise<Buffer> {
    const message = await new MailComposer({
      from: mail.from.name ? { name: mail.from.name, address: mail.from.address } : mail.from.address,
      to: mail.to.length > 0 ? mail.to : undefined,
      replyTo: mail.replyTo ?? undefined,
      subject: mail.subject,
      html: mail.html ?? undefined,
      text: mail.text ?? undefined,
      messageId: mail.messageId,
      headers: mail.headers,
      disableFileAccess: true,
      disableUrlAccess: true,
    })
      .compile()
      .build();
    return mail.to.length > 0 ? message : Buffer.concat([UNDISCLOSED_TO, message]);
  }
}
