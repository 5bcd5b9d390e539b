import { Headers, Joiner, Splitter } from '@zone-eu/mailsplit';
import type { SplitterChunk } from '@zone-eu/mailsplit';
import addressparser from 'nodemailer/lib/addressparser';
import { encodeWord, isPlainText, quoteString } from 'nodemailer/lib/mime-funcs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DkimKey, signMime } from './mime-composer';

/** What a copy of a raw message is sent as (SPEC §11): its actual sender and the headers added when missing. */
export interface RawRewrite {
  /** The actual sender: replaces `From` when the client's names another address (a contact's route). */
  from: { name: string | null; address: string };
  /** `<uuid@sender-domain>`, added when the client set no Message-ID. */
  messageId: string;
  /** Added as `Date` when the client set none. */
  date: Date;
}

/** Top-level headers a copy never carries: they are removed wherever they are in the header block. */
const REMOVED = ['bcc', 'return-path', 'dkim-signature'];
const REMOVED_PREFIX = 'x-leadpush-';

/**
 * A copy of a message as its SMTP client wrote it (SPEC §11), with exactly
 * §11's rewrites of the top-level header block: Bcc, X-Leadpush-*,
 * Return-Path and DKIM-Signature removed; From replaced by the actual sender
 * when it differs; Date and Message-ID added when missing. Every other header
 * line and every byte of the body stay as they were. Then DKIM-signed.
 */
export async function composeRaw(raw: Buffer, rewrite: RawRewrite, dkim: DkimKey | null): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const rewriter = new Transform({
    objectMode: true,
    transform(chunk: SplitterChunk, _encoding, done) {
      if (chunk.type === 'node' && chunk.root && chunk.headers) rewriteHeaders(chunk.headers, rewrite);
      done(null, chunk);
    },
  });
  const joiner = new Joiner();
  joiner.on('data', (chunk: Buffer) => chunks.push(chunk));
  await pipeline(Readable.from([raw]), new Splitter(), rewriter, joiner);
  return signMime(Buffer.concat(chunks), dkim);
}

function rewriteHeaders(headers: Headers, { from, messageId, date }: RawRewrite): void {
  const keys = new Set(headers.getList().map((line) => line.key));
  for (const key of keys) {
    if (REMOVED.includes(key) || key.startsWith(REMOVED_PREFIX)) headers.remove(key);
  }
  const end = Number.MAX_SAFE_INTEGER;
  if (headerAddress(headers) !== from.address) headers.update('From', formatAddress(from));
  if (!keys.has('date')) headers.add('Date', date.toUTCString().replace(/GMT$/, '+0000'), end);
  if (!keys.has('message-id')) headers.add('Message-ID', messageId, end);
}

/** The first address of the From header, normalized; null when there is none. */
export function headerAddress(headers: Headers): string | null {
  const value = headers
    .getDecoded('from')
    .map((h) => h.value)
    .join(', ');
  const [first] = addressparser(value, { flatten: true });
  return first?.address ? first.address.trim().toLowerCase() : null;
}

function formatAddress({ name, address }: RawRewrite['from']): string {
  if (!name) return address;
  return `${isPlainText(name) ? quoteString(name) : encodeWord(name)} <${address}>`;
}
