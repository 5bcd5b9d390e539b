import { Headers, Splitter } from '@zone-eu/mailsplit';
import type { SplitterChunk } from '@zone-eu/mailsplit';
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { finished } from 'node:stream/promises';
import { isStorableString, isValidEmail, normalizeEmail, SmtpReply } from '@app/common';
import { headerAddress } from '../delivery/raw-composer';
import type { SendDraft } from '../emails/send-command';
import { MAX_TAG_LENGTH, planRecipients, TAG_HEADER } from '../emails/send-rules';
import { RELAY_REPLIES } from './relay-replies';

const RESERVED_PREFIX = 'x-leadpush-';

/** A decoded header as PostgreSQL can store it: without NUL, lone surrogates replaced. */
const toWellFormed = (value: string) =>
  value
    .replace(/\0/g, '')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

const LF = 0x0a;
const CR = 0x0d;

/**
 * The bytes of a message up to the end of its header block: its first empty
 * line (LF or CRLF, the line mailsplit ends a header block with) included,
 * or all of it when it has none.
 */
function headerBlock(raw: Buffer): Buffer {
  for (let start = 0; ;) {
    const end = raw.indexOf(LF, start) + 1;
    if (end === 0) return raw;
    if (end - start === 1 || (end - start === 2 && raw[start] === CR)) return raw.subarray(0, end);
    start = end;
  }
}

/** The largest header block the relay reads (mailsplit's default limit, which delivery's splitter keeps). */
export const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * The top-level header block of a message, as mailsplit parses it, or the
 * refusal of a block over MAX_HEADER_BYTES. Only the block goes through the
 * splitter: the body is not read.
 */
export async function topHeaders(raw: Buffer): Promise<Headers | SmtpReply> {
  const splitter = new Splitter({ maxHeadSize: MAX_HEADER_BYTES });
  let headers: Headers | null = null;
  splitter.on('data', (chunk: SplitterChunk) => {
    if (chunk.type === 'node' && chunk.headers) headers ??= chunk.headers;
  });
  splitter.end(headerBlock(raw));
  try {
    await finished(splitter);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EMAXLEN')
      return RELAY_REPLIES.headersTooBig(MAX_HEADER_BYTES);
    throw error;
  }
  return headers ?? new Headers(false);
}

/**
 * The draft of a message submitted over SMTP (SPEC §11), or the end-of-DATA
 * refusal: recipients are the envelope's (normalized, deduplicated), `to`
 * when the address is in the To or Cc header, else `bcc`; the sender is the
 * From header's address (step 5 is the accept path's); X-Leadpush-Tag tags
 * the messages, any other X-Leadpush-* header is refused. The content stays
 * the raw message.
 */
export function relayDraft(
  raw: Buffer,
  headers: Headers,
  envelope: readonly string[],
): SendDraft | SmtpReply {
  let tag: string | null = null;
  for (const { key, line } of headers.getList()) {
    if (!key.startsWith(RESERVED_PREFIX)) continue;
    if (key !== TAG_HEADER)
      return RELAY_REPLIES.reservedHeader(line.slice(0, line.indexOf(':')).slice(0, 100));
    tag = headers.getFirst(TAG_HEADER);
    if (tag.length > MAX_TAG_LENGTH || !isStorableString(tag)) return RELAY_REPLIES.badTag(MAX_TAG_LENGTH);
  }
  const from = headerAddress(headers);
  if (!from || !isValidEmail(from)) return RELAY_REPLIES.noSender();
  const visible = new Set(
    ['to', 'cc'].flatMap((key) =>
      headers
        .getDecoded(key)
        .flatMap((h) => addressparser(h.value, { flatten: true }))
        .map((a) => normalizeEmail(a.address ?? '')),
    ),
  );
  const addresses = envelope.map((a) => normalizeEmail(a));
  const recipients = planRecipients(
    addresses.filter((a) => visible.has(a)),
    addresses.filter((a) => !visible.has(a)),
  );
  return {
    from,
    recipients,
    replyTo: null,
    // The stored copy the message read shows; what is delivered is the raw message.
    subject: toWellFormed(libmime.decodeWords(headers.getFirst('subject'))),
    html: null,
    text: null,
    raw,
    headers: {},
    tag: tag || null,
    attachments: [],
    scheduledAt: null,
  };
}
