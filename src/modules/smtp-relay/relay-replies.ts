import { AppError, SmtpReply } from '@app/common';

/**
 * The relay's replies (SPEC §11): the code fixed, the enhanced status first in
 * the text (smtp-server's own enhanced codes are off, they would not match),
 * the reason named.
 */
export const RELAY_REPLIES = {
  authRequired: '5.7.0 Authentication required: AUTH with an API key as the password',
  badCredentials: () => new SmtpReply(535, '5.7.8', 'Authentication credentials invalid'),
  rateLimited: () => new SmtpReply(451, '4.7.1', 'Rate limit of this API key reached, try again shortly'),
  invalidRecipient: (address: string) =>
    new SmtpReply(553, '5.1.3', `${address.slice(0, 200)} is not a valid email address`),
  tooManyRecipients: (max: number) =>
    new SmtpReply(452, '4.5.3', `Too many recipients: at most ${max} unique recipients per message`),
  tooBig: (maxBytes: number) =>
    new SmtpReply(552, '5.3.4', `Message exceeds the maximum size of ${maxBytes} bytes`),
  headersTooBig: (maxBytes: number) =>
    new SmtpReply(552, '5.3.4', `The header block exceeds the maximum size of ${maxBytes} bytes`),
  reservedHeader: (name: string) =>
    new SmtpReply(550, '5.7.1', `Header ${name} is reserved: only X-Leadpush-Tag may be given`),
  badTag: (max: number) =>
    new SmtpReply(550, '5.7.1', `X-Leadpush-Tag must be at most ${max} characters, without NUL`),
  noSender: () => new SmtpReply(550, '5.7.1', 'The message has no valid From address (sender_not_verified)'),
  notStored: () => new SmtpReply(451, '4.3.0', 'Message not stored, try again later'),
  unavailable: () => new SmtpReply(451, '4.3.0', 'Temporarily unable to check this request, try again later'),
  authUnavailable: () =>
    new SmtpReply(454, '4.7.0', 'Temporarily unable to check credentials, try again later'),
};

/**
 * Replies smtp-server makes itself, before any hook of ours runs, in §11's
 * codes. It refuses a recipient path it cannot parse (no `@`, not in `<…>`)
 * with a 501 and a `SIZE=` over the limit at MAIL FROM with a bare 552; §11
 * answers both as our own rules do (553 5.1.3, 552 5.3.4). Keyed by the context
 * smtp-server passes to `send`; its own enhanced codes are off.
 */
const OWN_REPLIES: Record<string, { code: number; enhanced: string }> = {
  MAILBOX_SYNTAX_ERROR: { code: 553, enhanced: '5.1.3' },
  MESSAGE_TOO_BIG: { code: 552, enhanced: '5.3.4' },
};

/** smtp-server's reply `code`/`text`, sent with `context`, as §11 words it. */
export function ownReply(
  code: number,
  text: string,
  context: string | undefined,
): { code: number; text: string } {
  const reply = context === undefined ? undefined : OWN_REPLIES[context];
  return reply ? { code: reply.code, text: `${reply.enhanced} ${text}` } : { code, text };
}

/**
 * An error of the send pipeline as a reply: a refusal of SPEC §7 (steps 2, 3,
 * 5) is a 550 5.7.1 naming its code; a full queue or anything unexpected (the
 * database unreachable) is `fallback`, a temporary failure: nothing was done.
 */
export function replyOf(error: unknown, fallback: () => SmtpReply = RELAY_REPLIES.notStored): SmtpReply {
  if (error instanceof SmtpReply) return error;
  if (error instanceof AppError && (error.status === 403 || error.code === 'sender_not_verified')) {
    return new SmtpReply(550, '5.7.1', `${error.message} (${error.code})`);
  }
  if (error instanceof AppError && error.status === 422) {
    return new SmtpReply(554, '5.6.0', `${error.message} (${error.code})`);
  }
  return fallback();
}
