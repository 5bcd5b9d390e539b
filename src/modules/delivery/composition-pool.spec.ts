import { authenticate } from 'mailauth';
import { simpleParser } from 'mailparser';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { dkimRecord, generateDkimKeyPair } from '../addresses/dkim';
import { CompositionPool } from './composition-pool';
import { copyOf, DkimKey } from './mime-composer';

/** The compiled thread module, as a worker process runs it (the test run's global setup builds dist/). */
const THREAD_FILE = join(
  __dirname,
  '..',
  '..',
  '..',
  'dist',
  'src',
  'modules',
  'delivery',
  'composition.thread.js',
);

describe('CompositionPool', () => {
  const pool = new CompositionPool(THREAD_FILE);
  let dkim: DkimKey;
  let record: { name: string; value: string };
  afterAll(() => pool.onApplicationShutdown());

  beforeAll(async () => {
    const keys = await generateDkimKeyPair();
    dkim = { domainName: 'developer.test', selector: 'lp1', privateKey: createPrivateKey(keys.privateKey) };
    record = dkimRecord('developer.test', 'lp1', keys.publicKey);
  });

  const dkimResults = async (raw: Buffer) =>
    (
      await authenticate(raw, {
        resolver: async (name: string, type: string) => {
          if (type === 'TXT' && name === record.name) return [[record.value]];
          throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
        },
        trustReceived: false,
      })
    ).dkim.results.map((r: { status: { result: string } }) => r.status.result);

  it('composes and signs in a thread: the key, the attachments and the bytes cross intact', async () => {
    expect(pool.isThreaded()).toBe(true);
    const pdf = randomBytes(50_000);
    const composition = await pool.compose({
      kind: 'mime',
      fields: {
        from: { name: 'Developer Team', address: 'sender@developer.test' },
        to: ['known@example.test'],
        replyTo: null,
        subject: 'Grüße from a thread',
        html: '<p>Thanks</p>',
        text: 'Thanks',
        headers: {},
        attachments: [{ filename: 'receipt.pdf', contentType: 'application/pdf', content: pdf }],
      },
      dkim,
    });
    expect(Buffer.isBuffer(composition.bytes)).toBe(true);
    const raw = copyOf(composition, '<copy-1@developer.test>');
    expect(await dkimResults(raw)).toEqual(['pass']);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe('Grüße from a thread');
    expect(parsed.messageId).toBe('<copy-1@developer.test>');
    expect(parsed.attachments[0].content.equals(pdf)).toBe(true);
  });

  it("composes a raw message in a thread, the client's body byte for byte", async () => {
    const body = 'line one  \r\n\r\n.. a dot line\r\n';
    const client = Buffer.from(`From: someone@example.test\r\nSubject: raw\r\n\r\n${body}`);
    const composition = await pool.compose({
      kind: 'raw',
      raw: client,
      rewrite: {
        from: { name: null, address: 'sender@developer.test' },
        date: new Date('2026-12-01T10:00:00Z'),
      },
      dkim,
    });
    expect(composition.addsMessageId).toBe(true);
    const raw = copyOf(composition, '<copy-2@developer.test>');
    expect(await dkimResults(raw)).toEqual(['pass']);
    expect(raw.subarray(raw.indexOf('\r\n\r\n') + 4).toString()).toBe(body);
    expect(raw.toString()).toContain('Date: Tue, 01 Dec 2026 10:00:00 +0000');
  });

  it('composes on the event loop where there is no compiled thread module', async () => {
    const inline = new CompositionPool(join(__dirname, 'no-such-thread.js'));
    expect(inline.isThreaded()).toBe(false);
    const composition = await inline.compose({
      kind: 'raw',
      raw: Buffer.from('From: sender@developer.test\r\nSubject: s\r\n\r\nhi\r\n'),
      rewrite: { from: { name: null, address: 'sender@developer.test' }, date: new Date() },
      dkim,
    });
    expect(await dkimResults(copyOf(composition, '<copy-3@developer.test>'))).toEqual(['pass']);
    await inline.onApplicationShutdown();
  });
});
