import { normalizeEmail } from '@app/common';
import {
  checkBatch,
  checkReschedule,
  checkSend,
  contentTypeOf,
  MAX_RECIPIENTS,
  parseDateTime,
  planRecipients,
} from './send-rules';

const now = new Date('2026-12-01T10:00:00Z');
const valid = { from: 'Sender@Dev.test', subject: 'Hi', text: 'Hello', to: ['a@x.test'] };
const pdf = Buffer.from('%PDF-1.4\n\x00\xff binary');

/** The fields a body's errors name, or [] when it is valid. */
function fieldsOf(body: unknown): string[] {
  const checked = checkSend(body, now);
  return checked.ok ? [] : checked.errors.map((e) => e.field);
}

describe('planRecipients: the one definition of a unique recipient', () => {
  it('normalizes, dedupes case-insensitively, keeps to order then bcc, and to wins', () => {
    expect(
      planRecipients(
        ['B@x.test', ' a@x.test ', 'b@X.TEST'],
        ['c@x.test', 'A@x.test', 'd@x.test', 'C@x.test'],
      ),
    ).toEqual([
      { email: 'b@x.test', type: 'to' },
      { email: 'a@x.test', type: 'to' },
      { email: 'c@x.test', type: 'bcc' },
      { email: 'd@x.test', type: 'bcc' },
    ]);
  });

  it('stores exactly what was validated: normalizeEmail of each address', () => {
    const raw = ' İnfo@X.test ';
    expect(planRecipients([raw])).toEqual([{ email: normalizeEmail(raw), type: 'to' }]);
  });

  it('handles bcc only, and null lists as absent', () => {
    expect(planRecipients(undefined, ['z@x.test'])).toEqual([{ email: 'z@x.test', type: 'bcc' }]);
    expect(planRecipients(['a@x.test'], null)).toEqual([{ email: 'a@x.test', type: 'to' }]);
  });
});

describe('checkSend', () => {
  it('turns a valid body into a draft: normalized, deduplicated, the tag taken out of the headers', () => {
    const checked = checkSend(
      {
        ...valid,
        to: ['A@x.test', 'b@x.test'],
        bcc: ['a@X.test', 'c@x.test'],
        reply_to: ' Help@Dev.test',
        headers: { 'x-leadpush-TAG': 'welcome', 'X-Trace': 't1' },
      },
      now,
    );
    expect(checked).toEqual({
      ok: true,
      value: {
        from: 'sender@dev.test',
        recipients: [
          { email: 'a@x.test', type: 'to' },
          { email: 'b@x.test', type: 'to' },
          { email: 'c@x.test', type: 'bcc' },
        ],
        replyTo: 'help@dev.test',
        subject: 'Hi',
        html: null,
        text: 'Hello',
        headers: { 'X-Trace': 't1' },
        tag: 'welcome',
        attachments: [],
        scheduledAt: null,
      },
    });
  });

  it('counts the limit over the same unique recipients the messages follow: 50 pass, 51 do not', () => {
    const addresses = Array.from({ length: MAX_RECIPIENTS + 1 }, (_, i) => `r${i}@x.test`);
    const fifty = { ...valid, to: addresses.slice(0, 40), bcc: [...addresses.slice(40, 50), 'R0@X.test'] };
    const checked = checkSend(fifty, now);
    expect(checked.ok && checked.value.recipients).toHaveLength(MAX_RECIPIENTS);
    expect(fieldsOf({ ...valid, to: addresses })).toEqual(['to']);
  });

  it.each([
    ['from missing', { from: undefined }, ['from']],
    ['subject empty', { subject: '' }, ['subject']],
    ['subject with a line break', { subject: 'a\nb' }, ['subject']],
    ['neither html nor text', { text: undefined }, ['html', 'text']],
    ['html not a string', { html: 42 }, ['html']],
    ['no recipient', { to: [] }, ['to']],
    ['to not an array', { to: 'a@x.test' }, ['to']],
    ['a bad to element', { to: ['ok@x.test', 'bad'] }, ['to[1]']],
    ['reply_to malformed', { reply_to: 'nope' }, ['reply_to']],
    ['headers as an array', { headers: [] }, ['headers']],
    ['a reserved header, any case', { headers: { 'rEPLY-to': 'x' } }, ['headers.rEPLY-to']],
    [
      'an X-Leadpush header other than the tag',
      { headers: { 'X-Leadpush-Id': '1' } },
      ['headers.X-Leadpush-Id'],
    ],
    [
      'a tag over 200 characters',
      { headers: { 'X-Leadpush-Tag': 't'.repeat(201) } },
      ['headers.X-Leadpush-Tag'],
    ],
    ['a header value with CRLF', { headers: { 'X-A': 'a\r\nb' } }, ['headers.X-A']],
    ['an unknown top-level field', { cc: ['x@x.test'] }, ['cc']],
  ])('refuses %s', (_, extra, fields) => {
    expect(fieldsOf({ ...valid, ...extra })).toEqual(fields);
  });

  it('reserves every name under Content-, Resent-, ARC- and X-Leadpush-, except the tag, and says which prefix', () => {
    const checked = checkSend(
      {
        ...valid,
        headers: { 'Content-Disposition': 'x', 'CONTENT-ID': 'x', 'X-Leadpush-Tag': 'a', 'ARC-Seal': 'x' },
      },
      now,
    );
    expect(checked.ok ? [] : checked.errors).toEqual([
      { field: 'headers.Content-Disposition', message: 'headers starting with Content- are reserved' },
      { field: 'headers.CONTENT-ID', message: 'headers starting with CONTENT- are reserved' },
      { field: 'headers.ARC-Seal', message: 'headers starting with ARC- are reserved' },
    ]);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`X-H${i}`, 'v']));
    expect(fieldsOf({ ...valid, headers: many })).toEqual(['headers']);
  });

  it('validates addresses as they are stored: lower-cased İ grows past 254 characters', () => {
    const address = `${'İ'.repeat(21)}@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(40)}.test`;
    expect(fieldsOf({ ...valid, from: address, to: ['ok@x.test', address], reply_to: address })).toEqual([
      'from',
      'to[1]',
      'reply_to',
    ]);
  });

  it('names every failing field at once', () => {
    expect(
      fieldsOf({ from: 'bad', subject: '', to: ['x'], headers: { Subject: 'x' }, cc: [] }).sort(),
    ).toEqual(['cc', 'from', 'headers.Subject', 'html', 'subject', 'text', 'to[0]']);
  });

  it('refuses a body that is not an object', () => {
    expect(fieldsOf([1, 2])).toEqual(['body']);
    expect(fieldsOf(null)).toEqual(['body']);
  });
});

describe('checkSend: attachments', () => {
  const attach = (...attachments: unknown[]) => checkSend({ ...valid, attachments }, now);
  const fieldsOfAttachments = (...attachments: unknown[]) => fieldsOf({ ...valid, attachments });

  it('decodes the content and settles the content type: given, from the extension, or octet-stream', () => {
    const checked = attach(
      { filename: 'Invoice.PDF', content: pdf.toString('base64') },
      { filename: 'logo.png', content: 'iVBO', content_type: 'image/x-custom', content_id: 'logo@dev' },
      { filename: 'data.unknown-ext', content: 'AA==' },
      { filename: 'README', content: 'AAA=' },
    );
    expect(checked.ok && checked.value.attachments).toEqual([
      { filename: 'Invoice.PDF', contentType: 'application/pdf', contentId: null, content: pdf },
      {
        filename: 'logo.png',
        contentType: 'image/x-custom',
        contentId: 'logo@dev',
        content: Buffer.from('iVBO', 'base64'),
      },
      {
        filename: 'data.unknown-ext',
        contentType: 'application/octet-stream',
        contentId: null,
        content: Buffer.from([0]),
      },
      {
        filename: 'README',
        contentType: 'application/octet-stream',
        contentId: null,
        content: Buffer.from([0, 0]),
      },
    ]);
  });

  it('refuses more than 20', () => {
    const one = { filename: 'a.txt', content: 'YQ==' };
    expect(fieldsOfAttachments(...Array.from({ length: 20 }, () => one))).toEqual([]);
    expect(fieldsOfAttachments(...Array.from({ length: 21 }, () => one))).toEqual(['attachments']);
    expect(fieldsOf({ ...valid, attachments: { filename: 'a.txt' } })).toEqual(['attachments']);
  });

  it.each([
    '.exe',
    '.bat',
    '.cmd',
    '.com',
    '.cpl',
    '.scr',
    '.pif',
    '.msi',
    '.msp',
    '.jar',
    '.js',
    '.jse',
    '.vbs',
    '.vbe',
    '.wsf',
    '.wsh',
    '.ps1',
    '.hta',
    '.lnk',
    '.reg',
    '.dll',
  ])('refuses a filename ending in %s, any case', (ext) => {
    expect(
      fieldsOfAttachments({ filename: 'ok.txt', content: 'YQ==' }, { filename: `x${ext}`, content: 'YQ==' }),
    ).toEqual(['attachments[1].filename']);
    expect(fieldsOfAttachments({ filename: `REPORT${ext.toUpperCase()}`, content: 'YQ==' })).toEqual([
      'attachments[0].filename',
    ]);
  });

  it.each([
    ['empty', ''],
    ['over 255 characters', `${'a'.repeat(252)}.txt`],
    ['a slash', 'a/b.txt'],
    ['a backslash', 'a\\b.txt'],
    ['a CR', 'a\rb.txt'],
    ['a LF', 'a\nb.txt'],
    ['a NUL', 'a\0b.txt'],
    ['not a string', 5],
  ])('refuses a filename that is %s', (_, filename) => {
    expect(fieldsOfAttachments({ filename, content: 'YQ==' })).toEqual(['attachments[0].filename']);
  });

  it('accepts a filename of exactly 255 characters, and a blocked extension not at the end', () => {
    expect(fieldsOfAttachments({ filename: `${'a'.repeat(251)}.txt`, content: 'YQ==' })).toEqual([]);
    expect(fieldsOfAttachments({ filename: 'setup.exe.txt', content: 'YQ==' })).toEqual([]);
  });

  it.each([
    ['empty', ''],
    ['unpadded', 'YQ'],
    ['wrongly padded', 'YQ='],
    ['padding inside', 'YQ==YQ=='],
    ['URL-safe letters', 'a-_b'],
    ['a line break', 'YWJj\nZGVm'],
    ['a space', 'YWJj ZGVm'],
    ['a character outside the alphabet', 'YWJ*'],
    ['not a string', 123],
    ['absent', undefined],
  ])('refuses content that is %s', (_, content) => {
    expect(fieldsOfAttachments({ filename: 'a.bin', content })).toEqual(['attachments[0].content']);
  });

  it.each([
    ['no subtype', 'application'],
    ['parameters', 'text/plain; charset=utf-8'],
    ['a space', 'text/ plain'],
    ['not a string', 1],
  ])('refuses a content_type with %s', (_, contentType) => {
    expect(fieldsOfAttachments({ filename: 'a.txt', content: 'YQ==', content_type: contentType })).toEqual([
      'attachments[0].content_type',
    ]);
  });

  it.each([
    ['empty', ''],
    ['over 255 characters', 'c'.repeat(256)],
    ['a space', 'a b'],
    ['angle brackets', '<logo>'],
    ['a non-ASCII character', 'lögo'],
  ])('refuses a content_id that is %s', (_, contentId) => {
    expect(fieldsOfAttachments({ filename: 'a.png', content: 'YQ==', content_id: contentId })).toEqual([
      'attachments[0].content_id',
    ]);
  });

  it('refuses unknown fields and non-objects in the list, naming each', () => {
    expect(fieldsOfAttachments({ filename: 'a.txt', content: 'YQ==', disposition: 'inline' }, 'x')).toEqual([
      'attachments[0].disposition',
      'attachments[1]',
    ]);
  });
});

describe('checkSend: scheduled_at', () => {
  const scheduled = (scheduledAt: unknown) => checkSend({ ...valid, scheduled_at: scheduledAt }, now);

  it.each([
    ['2026-12-02T08:00:00Z', '2026-12-02T08:00:00.000Z'],
    ['2026-12-02T08:00:00.250Z', '2026-12-02T08:00:00.250Z'],
    ['2026-12-02T09:00:00+01:00', '2026-12-02T08:00:00.000Z'],
    ['2026-12-02T03:30-04:30', '2026-12-02T08:00:00.000Z'],
    ['2026-12-02T08:00:00+0000', '2026-12-02T08:00:00.000Z'],
    ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00.000Z'],
    ['2026-12-31T10:00:00Z', '2026-12-31T10:00:00.000Z'],
  ])('takes %s as %s', (given, instant) => {
    const checked = scheduled(given);
    expect(checked.ok && checked.value.scheduledAt?.toISOString()).toBe(instant);
  });

  it.each([
    ['without a zone', '2026-12-02T08:00:00'],
    ['a date alone', '2026-12-02'],
    ['an impossible day', '2026-02-30T08:00:00Z'],
    ['an impossible hour', '2026-12-02T24:00:00Z'],
    ['a number', 1764668400000],
    ['free text', 'tomorrow'],
    ['more than 30 days ahead', '2026-12-31T10:00:01Z'],
  ])('refuses %s', (_, given) => {
    const checked = scheduled(given);
    expect(checked.ok ? [] : checked.errors.map((e) => e.field)).toEqual(['scheduled_at']);
  });

  it('treats null as absent', () => {
    const checked = scheduled(null);
    expect(checked.ok && checked.value.scheduledAt).toBeNull();
  });
});

describe("checkReschedule: the rule of a send's scheduled_at, alone", () => {
  const errorsOf = (body: unknown) => {
    const checked = checkReschedule(body, now);
    return checked.ok ? [] : checked.errors.map((e) => [e.field, e.message]);
  };

  it('takes a time with a zone, in the past too, as the instant it names', () => {
    for (const [given, instant] of [
      ['2026-12-02T09:00:00+01:00', '2026-12-02T08:00:00.000Z'],
      ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00.000Z'],
      ['2026-12-31T10:00:00Z', '2026-12-31T10:00:00.000Z'],
    ]) {
      const checked = checkReschedule({ scheduled_at: given }, now);
      expect(checked.ok && checked.value.toISOString()).toBe(instant);
    }
  });

  it.each([
    ['nothing', {}, [['scheduled_at', 'scheduled_at is required']]],
    ['null', { scheduled_at: null }, [['scheduled_at', 'scheduled_at is required']]],
    [
      'a time without a zone',
      { scheduled_at: '2026-12-02T08:00:00' },
      [['scheduled_at', 'scheduled_at must be an ISO 8601 date-time with Z or an offset']],
    ],
    [
      'a time over 30 days ahead',
      { scheduled_at: '2026-12-31T10:00:01Z' },
      [['scheduled_at', 'scheduled_at must be at most 30 days ahead']],
    ],
    [
      'another field',
      { scheduled_at: '2026-12-02T08:00:00Z', status: 'pending' },
      [['status', 'property status should not exist']],
    ],
    ['an array', [], [['body', 'must be a JSON object']]],
  ])('refuses %s', (_, body, errors) => {
    expect(errorsOf(body)).toEqual(errors);
  });
});

describe('checkBatch', () => {
  it('answers one draft per email, in order', () => {
    const checked = checkBatch({ emails: [valid, { ...valid, to: ['b@x.test'] }] }, now);
    expect(checked.ok && checked.value.map((d) => d.recipients[0].email)).toEqual(['a@x.test', 'b@x.test']);
  });

  it('names the failing fields of every item as emails[i].…', () => {
    const checked = checkBatch(
      { emails: [valid, { ...valid, to: ['ok@x.test', 'bad'] }, { ...valid, from: 'x', cc: [] }, 'nope'] },
      now,
    );
    expect(checked.ok ? [] : checked.errors.map((e) => e.field)).toEqual([
      'emails[1].to[1]',
      'emails[2].cc',
      'emails[2].from',
      'emails[3]',
    ]);
  });

  it.each([
    ['no emails', {}, ['emails']],
    ['an empty list', { emails: [] }, ['emails']],
    ['101 emails', { emails: Array.from({ length: 101 }, () => valid) }, ['emails']],
    ['emails not a list', { emails: valid }, ['emails']],
    ['an unknown field beside emails', { emails: [valid], dry_run: true }, ['dry_run']],
    ['a body that is not an object', [valid], ['body']],
  ])('refuses %s', (_, body, fields) => {
    const checked = checkBatch(body, now);
    expect(checked.ok ? [] : checked.errors.map((e) => e.field)).toEqual(fields);
  });

  it('takes 100 emails', () => {
    expect(checkBatch({ emails: Array.from({ length: 100 }, () => valid) }, now).ok).toBe(true);
  });
});

describe('contentTypeOf and parseDateTime', () => {
  it('derives a content type from the extension, any case', () => {
    expect(contentTypeOf('a.JPG')).toBe('image/jpeg');
    expect(contentTypeOf('archive.tar.gz')).toBe('application/gzip');
    expect(contentTypeOf('noext')).toBe('application/octet-stream');
  });

  it('reads leap days and refuses the ones that do not exist', () => {
    expect(parseDateTime('2028-02-29T00:00:00Z')?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(parseDateTime('2027-02-29T00:00:00Z')).toBeNull();
  });
});
