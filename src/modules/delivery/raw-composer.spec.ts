import { generateKeyPairSync } from 'node:crypto';
import { authenticate } from 'mailauth';
import { copyOf } from './mime-composer';
import { composeRaw, RawRewrite } from './raw-composer';

const rewrite: RawRewrite = {
  from: { name: 'Shop', address: 'sender@example.test' },
  date: new Date('2026-12-01T10:00:00Z'),
};

/** One copy of the raw message, as the delivery of message `uuid-1` sends it. */
const composeCopy = async (...args: Parameters<typeof composeRaw>) =>
  copyOf(await composeRaw(...args), '<uuid-1@example.test>');

const head = (raw: Buffer) => raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('utf8').split('\r\n');
const body = (raw: Buffer) => raw.subarray(raw.indexOf('\r\n\r\n') + 4);

describe('composeRaw (SPEC §11)', () => {
  const client = Buffer.from(
    [
      'Return-Path: <bounce@elsewhere.test>',
      'DKIM-Signature: v=1; a=rsa-sha256; d=elsewhere.test; s=x; b=abc',
      'From: Sender <SENDER@example.test>',
      'To: a@example.test,',
      '  b@example.test',
      'Bcc: hidden@example.test',
      'X-Leadpush-Tag: t',
      'X-LEADPUSH-Other: o',
      'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=',
      'Message-ID: <own@mailer.test>',
      'Date: Tue, 1 Dec 2026 09:00:00 +0100',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Grüße  \r\n\r\n.. trailing spaces and a dot line ',
      '',
    ].join('\r\n'),
  );

  it('removes Bcc, X-Leadpush-*, Return-Path and DKIM-Signature, and keeps every other line and the body byte for byte', async () => {
    const copy = await composeCopy(client, rewrite, null);
    expect(head(copy)).toEqual([
      'From: Sender <SENDER@example.test>',
      'To: a@example.test,',
      '  b@example.test',
      'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=',
      'Message-ID: <own@mailer.test>',
      'Date: Tue, 1 Dec 2026 09:00:00 +0100',
      'Content-Type: text/plain; charset=utf-8',
    ]);
    expect(body(copy).equals(body(client))).toBe(true);
  });

  it("gives the copies of a message that has its own Message-ID the client's, and nothing of their own", async () => {
    const composition = await composeRaw(client, rewrite, null);
    expect(composition.addsMessageId).toBe(false);
    expect(copyOf(composition, '<uuid-2@example.test>')).toBe(composition.bytes);
  });

  it('replaces From with the actual sender when it is another address, and adds a missing Date and Message-ID', async () => {
    const bare = Buffer.from('From: someone@example.test\r\nSubject: s\r\n\r\nhi\r\n');
    const copy = await composeCopy(
      bare,
      { ...rewrite, from: { name: 'Route Désk', address: 'route@example.test' } },
      null,
    );
    const lines = head(copy);
    expect(lines[0]).toBe('Message-ID: <uuid-1@example.test>');
    expect(lines[1]).toMatch(/^From: =\?UTF-8\?.+\?= <route@example\.test>$/);
    expect(lines).toContain('Date: Tue, 01 Dec 2026 10:00:00 +0000');
    expect(body(copy).toString()).toBe('hi\r\n');
  });

  it('signs the copy with the given key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const copy = await composeCopy(client, rewrite, {
      domainName: 'example.test',
      selector: 'lp',
      privateKey,
    });
    expect(head(copy)[0]).toMatch(/^DKIM-Signature: .*d=example\.test/);
    const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const auth = await authenticate(copy, {
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && name === 'lp._domainkey.example.test') return [[`v=DKIM1; k=rsa; p=${der}`]];
        throw Object.assign(new Error('no record'), { code: 'ENOTFOUND' });
      },
      trustReceived: false,
    });
    expect(auth.dkim.results.map((r: { status: { result: string } }) => r.status.result)).toEqual(['pass']);
  });
});
