import { codePointsAtMost, FieldError, isValidEmail, normalizeEmail } from '@app/common';
import type { Attachment, Recipient, SendDraft } from './send-command';

/**
 * The body rules of a send (SPEC §7 step 4, and §10 for a batch), as plain
 * functions of the input: every rule about what a request may contain is
 * here, and what a valid request becomes (a SendDraft: normalized,
 * deduplicated). The HTTP routes call these; so will the SMTP door.
 * Errors name fields as the input spells them: `to[1]`, `headers.X-Foo`,
 * `attachments[1].filename`, `emails[3].to[1]` in a batch.
 */

export const MAX_RECIPIENTS = 50;
/** Addresses one of `to` and `bcc` may list (duplicates included) before they are even deduplicated. */
export const MAX_LISTED_ADDRESSES = 500;
export const MAX_SUBJECT_LENGTH = 998;
export const TAG_HEADER = 'x-leadpush-tag';
export const MAX_TAG_LENGTH = 200;
export const MAX_HEADERS = 50;
export const MAX_HEADER_VALUE_LENGTH = 2000;
export const MAX_ATTACHMENTS = 20;
export const MAX_FILENAME_LENGTH = 255;
export const MAX_CONTENT_ID_LENGTH = 255;
export const MAX_SCHEDULE_AHEAD_DAYS = 30;
export const MAX_BATCH_ITEMS = 100;

/** The fields of a send; any other top-level field is refused (a `cc` must not vanish silently). */
const FIELDS: ReadonlySet<string> = new Set([
  'from',
  'subject',
  'html',
  'text',
  'to',
  'bcc',
  'reply_to',
  'headers',
  'attachments',
  'scheduled_at',
]);
const ATTACHMENT_FIELDS: ReadonlySet<string> = new Set(['filename', 'content', 'content_type', 'content_id']);

/**
 * Header names that cannot be given, lower-cased: those SPEC §7 reserves, and
 * those that would break the MIME structure or the DKIM signature, promise a
 * Cc that is never sent, or forge the trace and authentication results that
 * only relays write.
 */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'from',
  'to',
  'bcc',
  'reply-to',
  'subject',
  'message-id',
  'return-path',
  'cc',
  'sender',
  'date',
  'mime-version',
  'dkim-signature',
  'received',
  'authentication-results',
]);

/** Prefixes of reserved header names, lower-cased: everything MIME (`Content-*`), resent and ARC headers, and ours. */
const RESERVED_HEADER_PREFIXES = ['content-', 'resent-', 'arc-', 'x-leadpush-'];

/** Extensions an attachment's filename may not end in (compared in any case). */
export const BLOCKED_EXTENSIONS: readonly string[] = [
  ...['.exe', '.bat', '.cmd', '.com', '.cpl', '.scr', '.pif', '.msi', '.msp', '.jar', '.js'],
  ...['.jse', '.vbs', '.vbe', '.wsf', '.wsh', '.ps1', '.hta', '.lnk', '.reg', '.dll'],
];

/** An attachment's content type when none is given, by extension; anything else is application/octet-stream. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.htm': 'text/html',
  '.html': 'text/html',
  '.ics': 'text/calendar',
  '.xml': 'application/xml',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.ppt': 'application/vnd.ms-powerpoint',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.odt': 'application/vnd.oasis.opendocument.text',
};
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** `type/subtype` of RFC 6838 names, without parameters. */
const CONTENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
/** Standard base64 (RFC 4648 §4): the standard alphabet, padded, nothing else (no line breaks, no URL-safe letters). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Printable ASCII without space and the angle brackets that enclose it in a Content-ID header. */
const CONTENT_ID = /^[\x21-\x3b\x3d\x3f-\x7e]+$/;
/** ISO 8601 extended date-time with a zone: `2026-12-01T10:00:00Z`, `…+01:00`; seconds and fractions optional. */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

const isAbsent = (value: unknown) => value === undefined || value === null;
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Unique recipients: normalized (trimmed, lower-cased, as the addresses were
 * validated), `to` as given, then `bcc`; an address in both is a `to`
 * recipient. The one definition the limit counts and the messages follow.
 */
export function planRecipients(to?: readonly string[] | null, bcc?: readonly string[] | null): Recipient[] {
  const seen = new Map<string, Recipient>();
  for (const [list, type] of [
    [to ?? [], 'to'],
    [bcc ?? [], 'bcc'],
  ] as const) {
    for (const raw of list) {
      const email = normalizeEmail(raw);
      if (!seen.has(email)) seen.set(email, { email, type });
    }
  }
  return [...seen.values()];
}

/** The content type of a filename's extension, or application/octet-stream. */
export function contentTypeOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return (dot >= 0 && CONTENT_TYPES[filename.slice(dot).toLowerCase()]) || DEFAULT_CONTENT_TYPE;
}

/**
 * An ISO 8601 date-time with `Z` or an offset, as the instant it names; null
 * for anything else (no zone, a date alone, a 31st of February).
 */
export function parseDateTime(value: string): Date | null {
  const match = DATE_TIME.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = match.map((part) => part ?? '');
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s || '0'].map(Number);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  local.setUTCFullYear(year);
  if (local.getUTCDate() !== day) return null;
  const offsetMinutes = zulu ? 0 : Number(oh) * 60 + Number(om);
  if (!zulu && (Number(oh) > 23 || Number(om) > 59)) return null;
  const ms = fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0;
  return new Date(local.getTime() + ms - (sign === '-' ? -offsetMinutes : offsetMinutes) * 60_000);
}

/** Collects the errors of one send, its fields named after `prefix` (`emails[3].` in a batch). */
class Problems {
  readonly errors: FieldError[] = [];
  constructor(private readonly prefix: string) {}

  add(field: string, message: string): void {
    this.errors.push({ field: `${this.prefix}${field}`, message });
  }

  /** Whether `check` added nothing. */
  none(check: () => void): boolean {
    const before = this.errors.length;
    check();
    return this.errors.length === before;
  }
}

/** A required email address: `from`. */
function checkAddress(p: Problems, name: string, value: unknown): string {
  const email = normalizeEmail(value);
  if (!isValidEmail(email)) p.add(name, `${name} must be a valid email address`);
  return email as string;
}

/** `to` / `bcc`: absent, or an array of at most MAX_LISTED_ADDRESSES addresses, each reported on its index. */
function checkAddressList(p: Problems, name: string, value: unknown): string[] {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value)) {
    p.add(name, `${name} must be an array of email addresses`);
    return [];
  }
  if (value.length > MAX_LISTED_ADDRESSES) {
    p.add(name, `${name} must contain at most ${MAX_LISTED_ADDRESSES} addresses`);
    return [];
  }
  value.forEach((item, i) => {
    if (!isValidEmail(normalizeEmail(item))) p.add(`${name}[${i}]`, 'must be a valid email address');
  });
  return value as string[];
}

/** `subject`: a non-empty string of one line, at most MAX_SUBJECT_LENGTH characters. */
function checkSubject(p: Problems, value: unknown): string {
  if (typeof value !== 'string') p.add('subject', 'subject must be a string');
  else if (value === '') p.add('subject', 'subject should not be empty');
  else if (!codePointsAtMost(value, MAX_SUBJECT_LENGTH)) {
    p.add('subject', `subject must be at most ${MAX_SUBJECT_LENGTH} characters`);
  } else if (/[\r\n]/.test(value)) p.add('subject', 'subject must not contain line breaks');
  return value as string;
}

/** `html` and `text`: each a string when given; at least one of them not empty. */
function checkBody(p: Problems, html: unknown, text: unknown): { html: string | null; text: string | null } {
  const empty = (v: unknown) => isAbsent(v) || v === '';
  if (empty(html) && empty(text)) {
    for (const name of ['html', 'text']) p.add(name, 'at least one of html and text is required');
  }
  for (const [name, value] of [
    ['html', html],
    ['text', text],
  ] as const) {
    if (!isAbsent(value) && typeof value !== 'string') p.add(name, `${name} must be a string`);
  }
  return {
    html: typeof html === 'string' ? html : null,
    text: typeof text === 'string' ? text : null,
  };
}

/**
 * `headers`: absent, or an object of at most MAX_HEADERS string values;
 * names of letters, digits and hyphens, values of one line; the reserved
 * names refused. `X-Leadpush-Tag` (any case) is the tag, taken out of the
 * headers. Each bad header is reported on `headers.<Name>`.
 */
function checkHeaders(p: Problems, value: unknown): { headers: Record<string, string>; tag: string | null } {
  const headers: Record<string, string> = {};
  let tag: string | null = null;
  if (isAbsent(value)) return { headers, tag };
  if (!isObject(value)) {
    p.add('headers', 'headers must be an object of header names to string values');
    return { headers, tag };
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_HEADERS) {
    p.add('headers', `headers must contain at most ${MAX_HEADERS} headers`);
    return { headers, tag };
  }
  for (const [name, headerValue] of entries) {
    const at = (message: string) => p.add(`headers.${name.replace(/[\r\n\t]/g, '?')}`, message);
    const lower = name.toLowerCase();
    const prefix = RESERVED_HEADER_PREFIXES.find((x) => lower.startsWith(x));
    const maxLength = lower === TAG_HEADER ? MAX_TAG_LENGTH : MAX_HEADER_VALUE_LENGTH;
    if (!/^[A-Za-z0-9-]{1,100}$/.test(name)) at('header names may contain only letters, digits and hyphens');
    else if (RESERVED_HEADERS.has(lower)) at('header is set by Leadpush and cannot be given');
    else if (prefix && lower !== TAG_HEADER)
      at(`headers starting with ${name.slice(0, prefix.length)} are reserved`);
    else if (typeof headerValue !== 'string') at('header value must be a string');
    else if (/[\r\n]/.test(headerValue)) at('header value must not contain line breaks');
    else if (headerValue.length > maxLength) at(`header value must be at most ${maxLength} characters`);
    else if (lower === TAG_HEADER) tag = headerValue;
    else headers[name] = headerValue;
  }
  return { headers, tag };
}

/** One attachment, `attachments[i]`: its rules of SPEC §7, its bytes decoded, its content type settled. */
function checkAttachment(p: Problems, at: string, value: unknown): Attachment | null {
  if (!isObject(value)) {
    p.add(at, 'must be an object with filename and content');
    return null;
  }
  const valid = p.none(() => {
    for (const key of Object.keys(value)) {
      if (!ATTACHMENT_FIELDS.has(key)) p.add(`${at}.${key}`, `property ${key} should not exist`);
    }
    const { filename, content, content_type: contentType, content_id: contentId } = value;
    if (typeof filename !== 'string' || filename === '' || !codePointsAtMost(filename, MAX_FILENAME_LENGTH)) {
      p.add(`${at}.filename`, `filename must be a string of 1 to ${MAX_FILENAME_LENGTH} characters`);
    } else if (/[/\\\r\n\0]/.test(filename)) {
      p.add(`${at}.filename`, 'filename must not contain /, \\, CR, LF or NUL');
    } else {
      const lower = filename.toLowerCase();
      const blocked = BLOCKED_EXTENSIONS.find((extension) => lower.endsWith(extension));
      if (blocked) p.add(`${at}.filename`, `files ending in ${blocked} cannot be attached`);
    }
    if (typeof content !== 'string' || content === '' || !BASE64.test(content)) {
      p.add(`${at}.content`, 'content must be non-empty standard base64');
    }
    if (!isAbsent(contentType) && (typeof contentType !== 'string' || !CONTENT_TYPE.test(contentType))) {
      p.add(`${at}.content_type`, 'content_type must be a type/subtype, such as application/pdf');
    }
    if (
      !isAbsent(contentId) &&
      (typeof contentId !== 'string' ||
        contentId.length > MAX_CONTENT_ID_LENGTH ||
        !CONTENT_ID.test(contentId))
    ) {
      p.add(
        `${at}.content_id`,
        `content_id must be 1 to ${MAX_CONTENT_ID_LENGTH} printable characters, without spaces or < >`,
      );
    }
  });
  if (!valid) return null;
  const filename = value.filename as string;
  return {
    filename,
    contentType: (value.content_type as string | null | undefined) ?? contentTypeOf(filename),
    contentId: (value.content_id as string | null | undefined) ?? null,
    content: Buffer.from(value.content as string, 'base64'),
  };
}

/** `attachments`: absent, or an array of at most MAX_ATTACHMENTS. */
function checkAttachments(p: Problems, value: unknown): Attachment[] {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value)) {
    p.add('attachments', 'attachments must be an array of attachments');
    return [];
  }
  if (value.length > MAX_ATTACHMENTS) {
    p.add('attachments', `attachments must contain at most ${MAX_ATTACHMENTS} attachments`);
    return [];
  }
  return value.flatMap((item, i) => checkAttachment(p, `attachments[${i}]`, item) ?? []);
}

/** `scheduled_at`: absent, or an ISO 8601 date-time with a zone, at most MAX_SCHEDULE_AHEAD_DAYS after `now`. */
function checkScheduledAt(p: Problems, value: unknown, now: Date): Date | null {
  if (isAbsent(value)) return null;
  const at = typeof value === 'string' ? parseDateTime(value) : null;
  if (!at) {
    p.add('scheduled_at', 'scheduled_at must be an ISO 8601 date-time with Z or an offset');
    return null;
  }
  if (at.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_DAYS * 24 * 60 * 60 * 1000) {
    p.add('scheduled_at', `scheduled_at must be at most ${MAX_SCHEDULE_AHEAD_DAYS} days ahead`);
  }
  return at;
}

/** A send's body as a draft, or every field that breaks a rule; `now` dates `scheduled_at`. */
export function checkSend(input: unknown, now: Date, prefix = ''): Checked<SendDraft> {
  const p = new Problems(prefix);
  if (!isObject(input)) {
    return {
      ok: false,
      errors: [{ field: prefix ? prefix.replace(/\.$/, '') : 'body', message: 'must be a JSON object' }],
    };
  }
  for (const key of Object.keys(input)) {
    if (!FIELDS.has(key)) p.add(key, `property ${key} should not exist`);
  }
  const from = checkAddress(p, 'from', input.from);
  const subject = checkSubject(p, input.subject);
  const { html, text } = checkBody(p, input.html, input.text);
  let to: string[] = [];
  let bcc: string[] = [];
  const listsValid = p.none(() => {
    to = checkAddressList(p, 'to', input.to);
    bcc = checkAddressList(p, 'bcc', input.bcc);
  });
  const recipients = listsValid ? planRecipients(to, bcc) : [];
  if (listsValid && recipients.length === 0)
    p.add('to', 'at least one recipient is required across to and bcc');
  if (recipients.length > MAX_RECIPIENTS) {
    p.add('to', `at most ${MAX_RECIPIENTS} unique recipients are allowed across to and bcc`);
  }
  const replyTo = isAbsent(input.reply_to) ? null : checkAddress(p, 'reply_to', input.reply_to);
  const { headers, tag } = checkHeaders(p, input.headers);
  const attachments = checkAttachments(p, input.attachments);
  const scheduledAt = checkScheduledAt(p, input.scheduled_at, now);
  if (p.errors.length > 0) return { ok: false, errors: p.errors };
  return {
    ok: true,
    value: { from, recipients, replyTo, subject, html, text, headers, tag, attachments, scheduledAt },
  };
}

/**
 * A batch's body (SPEC §10): `{"emails": [...]}` of 1 to MAX_BATCH_ITEMS
 * sends, each under the rules of one; every failing field of every item is
 * reported, as `emails[i].<field>`.
 */
export function checkBatch(input: unknown, now: Date): Checked<SendDraft[]> {
  const errors: FieldError[] = [];
  if (!isObject(input)) return { ok: false, errors: [{ field: 'body', message: 'must be a JSON object' }] };
  for (const key of Object.keys(input)) {
    if (key !== 'emails') errors.push({ field: key, message: `property ${key} should not exist` });
  }
  const { emails } = input;
  if (!Array.isArray(emails) || emails.length < 1 || emails.length > MAX_BATCH_ITEMS) {
    errors.push({ field: 'emails', message: `emails must be an array of 1 to ${MAX_BATCH_ITEMS} emails` });
    return { ok: false, errors };
  }
  const drafts: SendDraft[] = [];
  emails.forEach((item, i) => {
    const checked = checkSend(item, now, `emails[${i}].`);
    if (checked.ok) drafts.push(checked.value);
    else errors.push(...checked.errors);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: drafts };
}

/**
 * A reschedule's body (SPEC §9, `PATCH /v1/messages/:uuid`): `{"scheduled_at"}`
 * alone, required, under the rule of a send's `scheduled_at`.
 */
export function checkReschedule(input: unknown, now: Date): Checked<Date> {
  const p = new Problems('');
  if (!isObject(input)) return { ok: false, errors: [{ field: 'body', message: 'must be a JSON object' }] };
  for (const key of Object.keys(input)) {
    if (key !== 'scheduled_at') p.add(key, `property ${key} should not exist`);
  }
  if (isAbsent(input.scheduled_at)) p.add('scheduled_at', 'scheduled_at is required');
  const at = checkScheduledAt(p, input.scheduled_at, now);
  return at && p.errors.length === 0 ? { ok: true, value: at } : { ok: false, errors: p.errors };
}
