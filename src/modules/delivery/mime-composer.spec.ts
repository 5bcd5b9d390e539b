import { authenticate } from 'mailauth';
import { simpleParser } from 'mailparser';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { dkimRecord, generateDkimKeyPair } from '../addresses/dkim';
import { composeMime, copyOf, DkimKey, MimeFields } from './mime-composer';

const fields = (extra: Partial<MimeFields> = {}): MimeFields => ({
  from: { name: 'Developer Team', address: 'sender@developer.test' },
  to: ['known@example.test'],
  replyTo: 'support@example.test',
  subject: 'Your receipt',
  html: '<p>Thanks</p><img src="cid:logo@leadpush">',
  text: 'Thanks',
  headers: { 'X-Correlation-ID': 'order-1042' },
  ...extra,
});

/** The copy of message `0d3c` of a request with these fields. */
const composeCopy = async (f: MimeFields, dkim: DkimKey | null, messageId = '<0d3c@developer.test>') =>
  copyOf(await composeMime(f, dkim), messageId);

/** A header block as sent, to look at lines a parser would normalize. */
const headerBlock = (raw: Buffer) => raw.toString('utf8').split(/\r\n\r\n/)[0];

describe('composeMime', () => {
  const pdf = randomBytes(70_000);
  const logo = randomBytes(3_000);
  const attachments = [
    { filename: 'receipt 1042.pdf', contentType: 'application/pdf', content: pdf },
    { filename: 'logo.png', contentType: 'image/png', content: logo, contentId: 'logo@leadpush' },
  ];

  it('writes the headers and both bodies', async () => {
    const parsed = await simpleParser(await composeCopy(fields(), null));
    expect(parsed.from?.value).toEqual([{ address: 'sender@developer.test', name: 'Developer Team' }]);
    expect(parsed.replyTo?.value[0].address).toBe('support@example.test');
    expect(parsed.subject).toBe('Your receipt');
    expect(parsed.messageId).toBe('<0d3c@developer.test>');
    expect(parsed.headers.get('x-correlation-id')).toBe('order-1042');
    expect(parsed.text?.trim()).toBe('Thanks');
    expect(parsed.html).toContain('<p>Thanks</p>');
  });

  it('addresses a message without visible recipients to undisclosed-recipients', async () => {
    const raw = await composeCopy(fields({ to: [] }), null);
    expect(headerBlock(raw)).toMatch(/^To: undisclosed-recipients:;$/m);
    expect(headerBlock(raw).match(/^To:/gm)).toHaveLength(1);
  });

  it('carries attachments byte for byte, inline ones by Content-ID in multipart/related', async () => {
    const raw = await composeCopy(fields({ attachments }), null);
    const parsed = await simpleParser(raw);
    const byName = Object.fromEntries(parsed.attachments.map((a) => [a.filename, a]));
    expect(Object.keys(byName).sort()).toEqual(['logo.png', 'receipt 1042.pdf']);
    expect(byName['receipt 1042.pdf']).toMatchObject({
      contentType: 'application/pdf',
      contentDisposition: 'attachment',
    });
    expect(byName['receipt 1042.pdf'].content.equals(pdf)).toBe(true);
    expect(byName['logo.png']).toMatchObject({
      contentType: 'image/png',
      contentDisposition: 'inline',
      contentId: '<logo@leadpush>',
      related: true,
    });
    expect(byName['logo.png'].content.equals(logo)).toBe(true);
    expect(headerBlock(raw)).toMatch(/^Content-Type: multipart\/mixed;/m);
    expect(raw.toString('utf8')).toMatch(/Content-Type: multipart\/related; type="text\/html"/);
  });

  it('signs with the DKIM key it is given, attachments and all, once for every copy of the request', async () => {
    const keys = await generateDkimKeyPair();
    const record = dkimRecord('developer.test', 'lp1', keys.publicKey);
    const dkim = {
      domainName: 'developer.test',
      selector: 'lp1',
      privateKey: createPrivateKey(keys.privateKey),
    };
    const composition = await composeMime(fields({ to: [], attachments }), dkim);
    const ids = ['<copy-1@developer.test>', '<copy-2@developer.test>'];
    for (const id of ids) {
      const raw = copyOf(composition, id);
      const head = headerBlock(raw);
      expect(head.match(/^Message-ID: .*$/gm)).toEqual([`Message-ID: ${id}`]);
      expect(head).toMatch(/^DKIM-Signature: /m);
      expect(head.replace(/\r\n[ \t]+/g, ' ')).toMatch(/ h=(?![^;]*message-id)[^;]*from/i);
      const result = await authenticate(raw, {
        resolver: async (name: string, type: string) => {
          if (type === 'TXT' && name === record.name) return [[record.value]];
          throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
        },
        trustReceived: false,
      });
      expect(result.dkim.results.map((r) => [r.status.result, r.signingDomain])).toEqual([
        ['pass', 'developer.test'],
      ]);
      expect((await simpleParser(raw)).messageId).toBe(id);
    }
  });

  it('keeps a header whose value reads like the Message-ID line it takes out', async () => {
    const note = 'Message-ID: <composition@leadpush.invalid>';
    const raw = await composeCopy(fields({ headers: { 'X-Note': note } }), null);
    expect(headerBlock(raw)).toContain(`X-Note: ${note}`);
    expect(headerBlock(raw).match(/^Message-ID:/gm)).toHaveLength(1);
  });

  it('signs nothing without a key', async () => {
    expect(headerBlock(await composeCopy(fields(), null))).not.toMatch(/^DKIM-Signature:/im);
  });
});
