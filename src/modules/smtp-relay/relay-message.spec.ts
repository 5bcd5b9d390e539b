import { Splitter } from '@zone-eu/mailsplit';
import type { SplitterChunk } from '@zone-eu/mailsplit';
import { finished } from 'node:stream/promises';
import { SmtpReply } from '@app/common';
import { MAX_HEADER_BYTES, relayDraft, topHeaders } from './relay-message';

const message = (...headers: string[]) => Buffer.from([...headers, '', 'body', ''].join('\r\n'));

async function draftOf(raw: Buffer, envelope: string[]) {
  const headers = await topHeaders(raw);
  if (headers instanceof SmtpReply) throw headers;
  return relayDraft(raw, headers, envelope);
}

/** The header lines topHeaders reads, or its refusal. */
async function headerLines(raw: Buffer): Promise<string[] | SmtpReply> {
  const headers = await topHeaders(raw);
  return headers instanceof SmtpReply ? headers : headers.getList().map((h) => h.line);
}

describe('relayDraft (SPEC §11)', () => {
  it('takes the envelope as recipients: normalized, deduplicated, to when in To or Cc, else bcc', async () => {
    const raw = message(
      'From: "Shop" <Sender@Example.test>',
      'To: Alice <alice@example.test>, bob@example.test',
      'Cc: =?UTF-8?Q?Car=C3=B6l?= <CAROL@example.test>',
      'Subject: hi',
    );
    const draft = await draftOf(raw, [
      'hidden@example.test',
      'Alice@Example.test',
      'carol@example.test',
      'alice@example.test',
    ]);
    expect(draft).toMatchObject({
      from: 'sender@example.test',
      recipients: [
        { email: 'alice@example.test', type: 'to' },
        { email: 'carol@example.test', type: 'to' },
        { email: 'hidden@example.test', type: 'bcc' },
      ],
      raw,
      html: null,
      text: null,
      headers: {},
      attachments: [],
    });
  });

  it('decodes the subject and takes X-Leadpush-Tag as the tag', async () => {
    const raw = message(
      'From: s@example.test',
      `Subject: =?UTF-8?B?${Buffer.from('Grüße').toString('base64')}?=`,
      'X-Leadpush-Tag: invoice',
    );
    expect(await draftOf(raw, ['a@example.test'])).toMatchObject({ subject: 'Grüße', tag: 'invoice' });
    expect(await draftOf(message('From: s@example.test'), ['a@example.test'])).toMatchObject({
      subject: '',
      tag: null,
    });
  });

  it('stores a subject that decodes to a NUL without it, and refuses such a tag', async () => {
    const raw = message('From: s@example.test', 'Subject: a=?UTF-8?Q?=00?=b');
    expect(await draftOf(raw, ['a@example.test'])).toMatchObject({ subject: 'ab' });
    const tagged = message('From: s@example.test', 'X-Leadpush-Tag: a\0b');
    expect(await draftOf(tagged, ['a@example.test'])).toMatchObject({ responseCode: 550 });
  });

  it('refuses any other X-Leadpush-* header with 550 5.7.1, naming it', async () => {
    const reply = await draftOf(message('From: s@example.test', 'X-LeadPush-Route: x'), ['a@example.test']);
    expect(reply).toBeInstanceOf(SmtpReply);
    expect(reply).toMatchObject({
      responseCode: 550,
      message: expect.stringMatching(/^5\.7\.1 .*X-LeadPush-Route/),
    });
  });

  it('refuses a message without a valid From address as sender_not_verified', async () => {
    for (const raw of [
      message('Subject: none'),
      message('From: not an address'),
      message('From: a@localhost'),
    ]) {
      expect(await draftOf(raw, ['a@example.test'])).toMatchObject({
        responseCode: 550,
        message: expect.stringMatching(/^5\.7\.1 .*sender_not_verified/),
      });
    }
  });

  it('refuses an X-Leadpush-Tag longer than the API allows', async () => {
    const raw = message('From: s@example.test', `X-Leadpush-Tag: ${'t'.repeat(201)}`);
    expect(await draftOf(raw, ['a@example.test'])).toMatchObject({ responseCode: 550 });
  });
});

describe('topHeaders', () => {
  /** The top node's headers as mailsplit gives them reading the whole message. */
  async function splitWhole(raw: Buffer): Promise<string[]> {
    const splitter = new Splitter();
    const lines: string[][] = [];
    splitter.on('data', (chunk: SplitterChunk) => {
      if (chunk.type === 'node' && chunk.headers) lines.push(chunk.headers.getList().map((h) => h.line));
    });
    splitter.end(raw);
    await finished(splitter);
    return lines[0] ?? [];
  }

  it('reads the header block as mailsplit reads it in the whole message, and nothing of the body', async () => {
    const shapes = [
      'From: a@example.test\r\nSubject: crlf\r\n\r\nX-Leadpush-Route: in the body\r\n',
      'From: a@example.test\nSubject: lf only\n\nX-Leadpush-Route: in the body\n',
      'From: a@example.test\r\nSubject: mixed\n\r\nbody\r\n\r\nmore\r\n',
      'From: a@example.test\r\nSubject:\r\n  folded\r\n\r\n',
      'From: a@example.test\r\nSubject: no empty line, no body',
      'From: a@example.test\r\nSubject: a CR alone\r\r\n\r\nbody',
      '\r\nX-Leadpush-Route: no headers at all\r\n',
      '\nFrom: after an empty first line\n',
      '',
    ];
    for (const shape of shapes) {
      const raw = Buffer.from(shape);
      const lines = await headerLines(raw);
      expect(lines).toEqual(await splitWhole(raw));
      expect(lines).not.toContainEqual(expect.stringMatching(/^X-Leadpush-Route/));
    }
  });

  it('refuses for good (552 5.3.4) a header block over the limit, where mailsplit fails the whole message', async () => {
    const block = (lines: number) =>
      Buffer.from(`From: a@example.test\r\n${`X-Long: ${'x'.repeat(998)}\r\n`.repeat(lines)}\r\nbody`);
    await expect(splitWhole(block(1100))).rejects.toThrow(/header size/i);
    expect(await headerLines(block(1100))).toMatchObject({
      responseCode: 552,
      message: `5.3.4 The header block exceeds the maximum size of ${MAX_HEADER_BYTES} bytes`,
    });
    expect(await headerLines(block(1000))).toHaveLength(1001);
  });
});
