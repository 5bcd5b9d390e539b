import { Headers, Joiner, Splitter } from '@zone-eu/mailsplit';
import type { SplitterChunk } from '@zone-eu/mailsplit';
import addressparser from 'nodemailer/lib/addressparser';
import { encodeWord, isPlainText, quoteString } from 'nodemailer/lib/mime-funcs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Composition, DkimKey, signMime } from './mime-composer';

/**
 * What the copies of a raw message are sent as (SPEC §11): their actual
 * sender and the Date added when missing. A copy's own Message-ID is added
 * when the client set none (see Composition).
 */
export interface RawRewrite {
  /** The actual sender: replaces `From` when the client's names another address (a contact's route). */
  from: { name: string | null; address: string };
  /** Added as `Date` when the client set none. */
  date: Date;
}

/** Top-level headers a copy never carries: they are removed wherever they are in the header block. */
const REMOVED = ['bcc', 'return-path', 'dkim-signature'];
const REMOVED_PREFIX = 'x-leadpush-';

/**
 * The copies of a message as its SMTP client wrote it (SPEC §11), with
 * exactly §11's rewrites of the top-level header block: Bcc, X-Leadpush-*,
 * Return-Path and DKIM-Signature removed; From replaced by the actual sender
 * when it differs; Date added when missing, and each copy's Message-ID when
 * the client set none. Every other header line and every byte of the body
 * stay as they were. Then DKIM-signed.
 */
export async function composeRaw(
  raw: Buffer,
  rewrite: RawRewrite,
  dkim: DkimKey | null,
): Promise<Composition> {
  const chunks: Buffer[] = [];
  let hasMessageId = false;
  const rewriter = new Transform({
    objectMode: true,
    transform(chunk: SplitterChunk, _encoding, done) {
      if (chunk.type === 'node' && chunk.root && chunk.headers) {
        hasMessageId = rewriteHeaders(chunk.headers, rewrite).has('message-id');
      }
      done(null, chunk);
    },
  });
  const joiner = new Joiner();
  joiner.on('data', (chunk: Buffer) => chunks.push(chunk));
  await pipeline(Readable.from([raw]), new Splitter(), rewriter, joiner);
  return { bytes: await signMime(Buffer.concat(chunks), dkim), addsMessageId: !hasMessageId };
}

/** Rewrites the top-level header block; answers the (lower-case) names it had. */
function rewriteHeaders(headers: Headers, { from, date }: RawRewrite): Set<string> {
  const keys = new Set(headers.getList().map((line) => line.key));
  for (const key of keys) {
    if (REMOVED.includes(key) || key.startsWith(REMOVED_PREFIX)) headers.remove(key);
  }
  if (headerAddress(headers) !== from.address) headers.update('From', formatAddress(from));
  if (!keys.has('date'))
    headers.add('Date', date.toUTCString().replace(/GMT$/, '+0000'), Number.MAX_SAFE_INTEGER);
  return keys;
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
