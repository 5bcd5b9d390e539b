/** One message for one envelope recipient, ready to hand to SMTP. */
export interface OutboundMail {
  envelope: { from: string; to: string };
  from: { name: string | null; address: string };
  /** The To header: the request's `to` recipients (empty: undisclosed-recipients). */
  to: string[];
  replyTo: string | null;
  subject: string;
  html: string | null;
  text: string | null;
  messageId: string;
  headers: Record<string, string>;
  dkim: { domainName: string; keySelector: string; privateKey: string } | null;
}

/** What the receiving server answered when it took the message. */
export interface SmtpReply {
  code: number;
  response: string;
}

/** Hands messages to an SMTP server; failures are thrown as the transport's own errors. */
export interface MailTransport {
  /**
   * Sends one message. When `signal` aborts, the send fails at once and its
   * connection is closed, so it cannot complete afterwards.
   */
  send(mail: OutboundMail, signal: AbortSignal): Promise<SmtpReply>;
  close(): void;
}

export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');
