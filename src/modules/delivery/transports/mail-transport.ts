/** One message for one envelope recipient, composed and signed: what SMTP is handed. */
export interface OutboundMail {
  envelope: { from: string; to: string };
  /** The message as sent (see composeMime). */
  raw: Buffer;
  /** Its Message-ID header's value, angle brackets included. */
  messageId: string;
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
