import { Headers, Splitter } from '@zone-eu/mailsplit';
import type { MimeNode, SplitterChunk } from '@zone-eu/mailsplit';
import libmime from 'libmime';
import { Readable } from 'node:stream';

/** One per-recipient block of a delivery status notification (RFC 3464 §2.3). */
export interface RecipientBlock {
  /** Final-Recipient, lowercased; null when the block names none. */
  finalRecipient: string | null;
  /** Original-Recipient (xtext decoded), lowercased; null when absent. */
  originalRecipient: string | null;
  /** `failed`, `delayed`, `delivered`, `relayed`, `expanded` (lowercased), or '' when absent. */
  action: string;
  /** The enhanced status code (`5.1.1`), or null. */
  status: string | null;
  diagnosticCode: string | null;
  /** Remote-MTA's name, without its type (`dns;`). */
  remoteMta: string | null;
}

/** What a report says of the message it is about, from its attached original (full or headers only). */
export interface Original {
  /** Return-Path's address, lowercased, or null. */
  returnPath: string | null;
  /** Message-ID with its angle brackets, or null. */
  messageId: string | null;
}

/** A received message, by what it is. */
export type Report =
  | { kind: 'dsn'; blocks: RecipientBlock[]; original: Original | null }
  | {
      kind: 'complaint';
      feedbackType: string;
      userAgent: string | null;
      /** Original-Mail-From, lowercased, or null. */
      originalMailFrom: string | null;
      /** Original-Rcpt-To, lowercased: the recipients the report names. */
      originalRcptTo: string[];
      original: Original | null;
    }
  /** Looks like a non-standard bounce (from a mailer daemon, with a failure subject): its text, for a best-effort reading. */
  | { kind: 'plain-bounce'; text: string; original: Original | null }
  | { kind: 'other'; why: string };

/** Longest text of one report part that is read (a delivery-status part is a few KB). */
const MAX_PART_BYTES = 512 * 1024;
/** Most recipient blocks read from one report. */
const MAX_BLOCKS = 1000;
/** Longest string kept in an event's detail. */
const MAX_FIELD = 1000;

const DSN_TYPES = ['message/delivery-status', 'message/global-delivery-status'];
const MESSAGE_TYPES = ['message/rfc822', 'message/global'];
const HEADER_TYPES = ['text/rfc822-headers', 'message/rfc822-headers', 'message/global-headers'];
const DAEMON_RE =
  /^(mailer[-_]?daemon|mail[-_]?daemon|postmaster|mdaemon|mail[-_]?delivery[-_]?(system|subsystem))$/i;
const BOUNCE_SUBJECT_RE =
  /undeliver|undelivered|delivery (status notification|failure|failed|has failed|problem)|mail delivery failed|returned mail|failure notice|non[- ]?delivery|could not be delivered|delayed mail|warning: message|mail system error/i;

interface Part {
  node: MimeNode;
  body: Buffer[];
  size: number;
}

/**
 * Reads a report (SPEC §13) with mailsplit: the MIME tree, the
 * delivery-status and feedback-report fields (header-like groups, parsed as
 * headers, CRLF or LF) and the attached original, full or headers only.
 */
export async function parseReport(raw: Buffer, envelopeFrom: string): Promise<Report> {
  let parts: Part[];
  try {
    parts = await splitParts(raw);
  } catch (error) {
    return { kind: 'other', why: `unreadable MIME: ${clip((error as Error).message).slice(0, 200)}` };
  }
  const root = parts[0];
  if (!root) return { kind: 'other', why: 'empty message' };
  const top = root.node.headers as Headers;
  const reportType = libmime
    .parseHeaderValue(top.getFirst('content-type'))
    .params['report-type']?.toLowerCase();
  const original = await originalOf(parts);

  const dsnPart = parts.find((part) => DSN_TYPES.includes(contentType(part)));
  const feedbackPart = parts.find((part) => contentType(part) === 'message/feedback-report');
  if (feedbackPart && (reportType === 'feedback-report' || !dsnPart)) {
    const fields = fieldsOf(await decoded(feedbackPart));
    return {
      kind: 'complaint',
      feedbackType: clip(fields.getFirst('feedback-type').toLowerCase()) || 'abuse',
      userAgent: clip(fields.getFirst('user-agent')) || null,
      originalMailFrom: addressOf(fields.getFirst('original-mail-from')),
      originalRcptTo: fields
        .get('original-rcpt-to')
        .map((line) => addressOf(line.replace(/^[^:]*:/, '')))
        .filter((a): a is string => a !== null),
      original,
    };
  }
  if (dsnPart) return { kind: 'dsn', blocks: recipientBlocks(await decoded(dsnPart)), original };

  const autoSubmitted = top.getFirst('auto-submitted').toLowerCase();
  const fromLocal = /([^<\s@"]+)@/.exec(top.getFirst('from'))?.[1] ?? '';
  const subject = libmime.decodeWords(top.getFirst('subject'));
  const daemon =
    DAEMON_RE.test(fromLocal) || (envelopeFrom === '' && /daemon|postmaster/i.test(top.getFirst('from')));
  // Mailer daemons mark their bounces auto-replied too: only a daemon's mail with a failure subject is read.
  if (!daemon || !BOUNCE_SUBJECT_RE.test(subject)) {
    return {
      kind: 'other',
      why: autoSubmitted.startsWith('auto-replied') ? 'an auto-reply' : 'not a report',
    };
  }
  const texts = await Promise.all(
    parts.filter((part) => contentType(part) === 'text/plain').map(async (part) => textOf(part)),
  );
  return { kind: 'plain-bounce', text: texts.join('\n'), original };
}

/**
 * The per-recipient blocks of a delivery-status body: the groups after the
 * per-message one, separated by blank lines; each group with an Action or a
 * Final-Recipient is a block, whatever the others say.
 */
export function recipientBlocks(body: Buffer): RecipientBlock[] {
  const groups = body
    .toString('utf8')
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .filter((group) => group.trim() !== '');
  const blocks: RecipientBlock[] = [];
  for (const group of groups) {
    const fields = fieldsOf(Buffer.from(`${group.replace(/^\n+/, '')}\n`));
    if (!fields.hasHeader('action') && !fields.hasHeader('final-recipient')) continue;
    blocks.push({
      finalRecipient: addressOf(fields.getFirst('final-recipient')),
      originalRecipient: addressOf(decodeXtext(fields.getFirst('original-recipient'))),
      action: fields
        .getFirst('action')
        .toLowerCase()
        .replace(/\s*\(.*$/, ''),
      status: /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(fields.getFirst('status'))?.[1] ?? null,
      diagnosticCode: clip(fields.getFirst('diagnostic-code')) || null,
      remoteMta:
        clip(
          withoutType(fields.getFirst('remote-mta'))
            .replace(/\s*\(.*$/, '')
            .replace(/\.$/, ''),
        ) || null,
    });
    if (blocks.length >= MAX_BLOCKS) break;
  }
  return blocks;
}

/**
 * A best-effort block for `recipient` out of a non-standard bounce's text
 * (Exim's "Mail delivery failed", qmail's "failure notice", …): found only
 * when the text names the recipient; the status is the first enhanced code
 * (or SMTP reply code) after it, the action `delayed` when the text says so.
 */
export function plainTextBlock(text: string, recipient: string): RecipientBlock | null {
  const lower = text.toLowerCase();
  const at = lower.indexOf(recipient.toLowerCase());
  if (at < 0) return null;
  const near = text.slice(at, at + 800);
  const enhanced = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(near);
  const reply = /\b([45])\d\d[ -]/.exec(near);
  const status = enhanced ? enhanced[0] : reply ? `${reply[1]}.0.0` : null;
  const delayed =
    status?.startsWith('4') ||
    /(delayed|not yet been delivered|will (keep|continue) (trying|to try)|still trying|retry timeout not reached)/i.test(
      text,
    );
  const line = near.split(/\r?\n/).find((l) => /\b[245]\d\d\b|\b[245]\.\d{1,3}\.\d{1,3}\b/.test(l));
  return {
    finalRecipient: recipient.toLowerCase(),
    originalRecipient: null,
    action: delayed && !status?.startsWith('5') ? 'delayed' : 'failed',
    status: status ?? (delayed ? '4.0.0' : '5.0.0'),
    diagnosticCode: line ? clip(line.trim()) : null,
    remoteMta: null,
  };
}

/** Every MIME node, in order, with its (undecoded) body, up to MAX_PART_BYTES each. */
async function splitParts(raw: Buffer): Promise<Part[]> {
  // An attached original is one leaf here: only its header block is read (originalOf).
  const splitter = new Splitter({ maxHeadSize: 256 * 1024, ignoreEmbedded: true });
  Readable.from([raw]).pipe(splitter);
  const parts: Part[] = [];
  let current: Part | undefined;
  for await (const chunk of splitter as AsyncIterable<SplitterChunk>) {
    if (chunk.type === 'node') {
      const node = chunk as unknown as MimeNode;
      current = { node, body: [], size: 0 };
      parts.push(current);
    } else if (chunk.type === 'body' && current && current.size < MAX_PART_BYTES) {
      current.body.push(chunk.value);
      current.size += chunk.value.length;
    }
  }
  return parts;
}

/** The original message: the header block of an attached message (message/rfc822) or of a headers-only part. */
async function originalOf(parts: Part[]): Promise<Original | null> {
  const part = parts.find(
    (p) => MESSAGE_TYPES.includes(contentType(p)) || HEADER_TYPES.includes(contentType(p)),
  );
  if (!part) return null;
  const body = (await decoded(part)).toString('latin1');
  const end = /\r?\n\r?\n/.exec(body);
  const headers = new Headers(Buffer.from(`${end ? body.slice(0, end.index) : body}\n`, 'latin1'));
  const messageId = /<[^<>\s]+>/.exec(headers.getFirst('message-id'))?.[0] ?? null;
  return { returnPath: addressOf(headers.getFirst('return-path')), messageId };
}

function contentType(part: Part): string {
  return (part.node.contentType || 'text/plain').toLowerCase();
}

/** A part's body with its transfer encoding undone. */
async function decoded(part: Part): Promise<Buffer> {
  const decoder = part.node.getDecoder();
  Readable.from(part.body).pipe(decoder);
  const chunks: Buffer[] = [];
  for await (const chunk of decoder as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function textOf(part: Part): Promise<string> {
  const bytes = await decoded(part);
  try {
    return new TextDecoder(part.node.charset || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/**
 * A group of fields, parsed as a header block; values are read as UTF-8
 * (RFC 6533 allows it in message/global-delivery-status).
 */
function fieldsOf(block: Buffer): {
  getFirst(key: string): string;
  get(key: string): string[];
  hasHeader(key: string): boolean;
} {
  const headers = new Headers(block);
  const utf8 = (value: string) => Buffer.from(value, 'latin1').toString('utf8');
  return {
    getFirst: (key) => utf8(headers.getFirst(key)),
    get: (key) => headers.get(key).map(utf8),
    hasHeader: (key) => headers.hasHeader(key),
  };
}

/** `rfc822; user@example.com`, `<user@example.com>` → `user@example.com`; null when there is no address. */
function addressOf(value: string): string | null {
  const address = withoutType(value).replace(/^<|>$/g, '').trim().toLowerCase();
  const match = /<([^<>]*@[^<>]*)>/.exec(address)?.[1] ?? address;
  // eslint-disable-next-line no-control-regex
  return match.includes('@') &&
    match.length <= 254 &&
    !/[\s<>,\u0000-\u001f\u007f]/.test(match) &&
    match.isWellFormed()
    ? match
    : null;
}

function withoutType(value: string): string {
  return value.includes(';') ? value.slice(value.indexOf(';') + 1).trim() : value.trim();
}

/** RFC 3461 xtext: `+2B` is `+`. */
function decodeXtext(value: string): string {
  return value.replace(/\+([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** At most MAX_FIELD characters, storable in jsonb: no NUL or other control characters, no lone surrogates. */
function clip(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .toWellFormed()
    .slice(0, MAX_FIELD)
    .trim();
}
