import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import type { Attachment, ParsedMail } from 'mailparser';
import { authenticate } from 'mailauth';
import { Client } from 'pg';
import { DELIVERY_QUEUE, DeliveryJobId } from '../src/modules/delivery/delivery.jobs';
import { AttachmentsRepository } from '../src/modules/messages/attachments.repository';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

const FINAL = ['sent', 'bounced', 'failed', 'suppressed'];

/** Every byte value, twice over, so no encoding may treat any of them specially. */
const BINARY = Buffer.from([
  ...Array.from({ length: 256 }, (_, i) => i),
  ...Array.from({ length: 256 }, (_, i) => 255 - i),
]);
const TEXT = Buffer.from(
  'Grüße aus Köln\r\nline two\nline three without CR\n\ttabbed, trailing space \n',
  'utf8',
);
const PDF = Buffer.concat([
  Buffer.from('%PDF-1.4\n%'),
  Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]),
  Buffer.from('\n1 0 obj\n<< /Type /Catalog >>\nendobj\nstream\n'),
  Buffer.from([0x00, 0x0d, 0x0a, 0x2e, 0x0d, 0x0a, 0xff]),
  Buffer.from('\nendstream\n%%EOF\n'),
]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48]);
const CID = 'logo@leadpush.test';

const ATTACHMENTS = [
  { filename: 'all-bytes.bin', content: BINARY.toString('base64') },
  { filename: 'notes.txt', content: TEXT.toString('base64') },
  { filename: 'Invoice 1042.pdf', content: PDF.toString('base64'), content_type: 'application/pdf' },
  { filename: 'logo.png', content: PNG.toString('base64'), content_id: CID },
];
const LISTED = [
  { filename: 'all-bytes.bin', content_type: 'application/octet-stream', size: BINARY.length },
  { filename: 'notes.txt', content_type: 'text/plain', size: TEXT.length },
  { filename: 'Invoice 1042.pdf', content_type: 'application/pdf', size: PDF.length },
  { filename: 'logo.png', content_type: 'image/png', size: PNG.length },
];

/** SPEC §7, §8: attachments delivered as MIME parts, and how long their bytes are kept. */
describe('attachments', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let store: AttachmentsRepository;
  let queue: Queue;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({
      SMTP_URL: smtp.url,
      DELIVERY_MAX_ATTEMPTS: '1',
      SWEEP_INTERVAL_MS: '250',
      SWEEP_GRACE_MS: '500',
    });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    store = t.app.get(AttachmentsRepository);
    queue = t.app.get(getQueueToken(DELIVERY_QUEUE));
  });
  afterEach(() => {
    smtp.setRcptHandler(undefined);
    smtp.reset();
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const read = async (uuid: string) => (await ws.api('get', `/v1/messages/${uuid}`).expect(200)).body.data;
  const settled = (uuid: string, status?: string) =>
    eventually(
      async () => {
        const message = await read(uuid);
        return (status ? message.status === status : FINAL.includes(message.status)) ? message : null;
      },
      { what: `message ${uuid} to end ${status ?? 'its delivery'}` },
    );
  const send = async (extra: Record<string, unknown>) =>
    (
      await ws
        .api('post', '/v1/emails')
        .send({
          from: sender.email,
          subject: 'Your files',
          text: 'See the attached files.',
          html: `<p>See the attached files.</p><img src="cid:${CID}" alt="logo">`,
          attachments: ATTACHMENTS,
          ...extra,
        })
        .expect(202)
    ).body.data.messages as { uuid: string; recipient: string }[];
  /** Whether each attachment of the message's request still has its bytes, in order. */
  const stored = async (uuid: string) =>
    (
      await t.db.query(
        `SELECT content IS NOT NULL AS stored FROM email_attachments
          WHERE request_id = (SELECT request_id FROM messages WHERE id = $1) ORDER BY position`,
        [uuid],
      )
    ).rows.map((r) => r.stored as boolean);
  const requestOf = async (uuid: string) =>
    (await t.db.query(`SELECT request_id FROM messages WHERE id = $1`, [uuid])).rows[0].request_id as string;
  /** Whether a session of this test's database waits for a lock. */
  const waitingOnALock = async () =>
    (
      await t.db.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      )
    ).rowCount! > 0;
  const receivedBy = (address: string) => smtp.messages.filter((m) => m.envelopeTo[0] === address);

  function expectAttachments(parsed: ParsedMail): void {
    const byName = new Map<string, Attachment>(parsed.attachments.map((a) => [a.filename ?? '', a]));
    expect([...byName.keys()].sort()).toEqual(LISTED.map((a) => a.filename).sort());
    const expected: [string, Buffer, string][] = [
      ['all-bytes.bin', BINARY, 'application/octet-stream'],
      ['notes.txt', TEXT, 'text/plain'],
      ['Invoice 1042.pdf', PDF, 'application/pdf'],
      ['logo.png', PNG, 'image/png'],
    ];
    for (const [filename, content, contentType] of expected) {
      const part = byName.get(filename)!;
      expect(part.contentType).toBe(contentType);
      expect(part.content.equals(content)).toBe(true);
    }
    const inline = byName.get('logo.png')!;
    expect(inline.cid).toBe(CID);
    expect(inline.contentDisposition).toBe('inline');
    expect(inline.related).toBe(true);
    for (const filename of ['all-bytes.bin', 'notes.txt', 'Invoice 1042.pdf']) {
      expect(byName.get(filename)!.contentDisposition).toBe('attachment');
      expect(byName.get(filename)!.related).toBeFalsy();
    }
    // mailparser replaces a cid: reference by the inline part it names.
    expect(parsed.html).toContain(`<img src="data:image/png;base64,${PNG.toString('base64')}"`);
    expect(parsed.text?.trim()).toBe('See the attached files.');
  }

  it('reach every recipient byte-identical with their filenames and types, inline ones by Content-ID, DKIM-signed', async () => {
    const accepted = await send({
      to: ['one@example.test', 'two@example.test'],
      bcc: ['three@example.test'],
    });
    await Promise.all(accepted.map((m) => settled(m.uuid, 'sent')));
    expect(smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([
      'one@example.test',
      'three@example.test',
      'two@example.test',
    ]);

    const domain = await ws.api('get', `/v1/domains/${sender.domainId}`).expect(200);
    const dkimRecord = domain.body.data.records.find((r: { name: string }) =>
      r.name.includes('._domainkey.'),
    );
    for (const { parsed, raw } of smtp.messages) {
      expectAttachments(parsed);
      const text = raw.toString('latin1');
      const [headerBlock] = text.split(/\r\n\r\n/);
      expect(headerBlock).toMatch(/^Content-Type: multipart\/mixed;/im);
      expect(text).toMatch(/^Content-Type: multipart\/related;/im);
      expect(text).toMatch(new RegExp(`^Content-ID: <${CID.replace('.', '\\.')}>\\r$`, 'im'));
      const auth = await authenticate(raw, {
        resolver: async (name: string, type: string) => {
          if (type === 'TXT' && name === dkimRecord.name) return [[dkimRecord.value]];
          throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
        },
        trustReceived: false,
      });
      expect(auth.dkim.results).toHaveLength(1);
      expect(auth.dkim.results[0].status.result).toBe('pass');
    }
  });

  it('are read once for all the recipients of a request', async () => {
    const reads = jest.spyOn(store, 'contentOf');
    try {
      const to = Array.from({ length: 12 }, (_, i) => `many${i}@example.test`);
      const accepted = await send({ to });
      await Promise.all(accepted.map((m) => settled(m.uuid, 'sent')));
      for (const address of to) expectAttachments(receivedBy(address)[0].parsed);
      const requestId = await requestOf(accepted[0].uuid);
      expect(reads.mock.calls.filter(([id]) => id === requestId)).toHaveLength(1);
    } finally {
      reads.mockRestore();
    }
  });

  it('cost a message without attachments no query', async () => {
    const reads = jest.spyOn(store, 'contentOf');
    const drops = jest.spyOn(store, 'release');
    try {
      const [{ uuid }] = await send({
        to: ['plain@example.test'],
        html: '<p>Hi</p>',
        attachments: undefined,
      });
      await settled(uuid, 'sent');
      const requestId = await requestOf(uuid);
      // The job (which would drop bytes after recording `sent`) is done once Bull removed it.
      await eventually(async () => !(await queue.getJob(DeliveryJobId.request(requestId))), {
        what: 'the delivery job to finish',
      });
      expect(receivedBy('plain@example.test')[0].parsed.attachments).toEqual([]);
      expect(reads.mock.calls.filter(([id]) => id === requestId)).toEqual([]);
      expect(drops.mock.calls.filter(([ids]) => ids.includes(requestId))).toEqual([]);
    } finally {
      reads.mockRestore();
      drops.mockRestore();
    }
  });

  it('drop their bytes once every message of the request is sent; the message read still lists them', async () => {
    const accepted = await send({ to: ['a@example.test'], bcc: ['b@example.test'] });
    expect(await stored(accepted[0].uuid)).toEqual([true, true, true, true]);
    await Promise.all(accepted.map((m) => settled(m.uuid, 'sent')));
    await eventually(async () => (await stored(accepted[0].uuid)).every((s) => !s), {
      what: 'the attachment bytes to be dropped',
    });
    for (const { uuid } of accepted) expect((await read(uuid)).attachments).toEqual(LISTED);
  });

  it('keep their bytes for a failed message, and a retry delivers them', async () => {
    smtp.setRcptHandler((address) =>
      address === 'later@example.test' ? { code: 451, message: '4.2.0 try later' } : undefined,
    );
    const accepted = await send({ to: ['now@example.test', 'later@example.test'] });
    const [now, later] = ['now@example.test', 'later@example.test'].map(
      (address) => accepted.find((m) => m.recipient === address)!.uuid,
    );
    await settled(now, 'sent');
    await settled(later, 'failed');
    await store.prune();
    expect(await stored(later)).toEqual([true, true, true, true]);

    smtp.setRcptHandler(undefined);
    await ws.api('post', `/v1/messages/${later}/retry`).expect(202);
    await settled(later, 'sent');
    expect(receivedBy('later@example.test')).toHaveLength(1);
    expectAttachments(receivedBy('later@example.test')[0].parsed);
    await eventually(async () => (await stored(later)).every((s) => !s), {
      what: 'the attachment bytes to be dropped after the retry',
    });
    expect((await read(later)).attachments).toEqual(LISTED);
  });

  it('keep their bytes 30 days after a failed or suppressed delivery; a retry after that is 409 not_retryable', async () => {
    await ws.api('post', '/v1/suppressions').send({ email: 'held@example.test' }).expect(201);
    const [{ uuid }] = await send({ to: ['held@example.test'] });
    await settled(uuid, 'suppressed');
    await t.db.query(`UPDATE messages SET updated_at = now() - interval '29 days' WHERE id = $1`, [uuid]);
    await store.prune();
    expect(await stored(uuid)).toEqual([true, true, true, true]);

    await t.db.query(`UPDATE messages SET updated_at = now() - interval '31 days' WHERE id = $1`, [uuid]);
    expect(await store.prune()).toBeGreaterThanOrEqual(1);
    expect(await stored(uuid)).toEqual([false, false, false, false]);
    expect((await read(uuid)).attachments).toEqual(LISTED);

    await ws.api('delete', '/v1/suppressions/held@example.test').expect(204);
    const refused = await ws.api('post', `/v1/messages/${uuid}/retry`).expect(409);
    expect(refused.body).toMatchObject({
      error: 'not_retryable',
      message: expect.stringContaining('attachments'),
    });
    expect((await read(uuid)).status).toBe('suppressed');
    expect(receivedBy('held@example.test')).toHaveLength(0);
  });

  it('a retry that waits on a concurrent drop of the bytes sees it and answers 409', async () => {
    await ws.api('post', '/v1/suppressions').send({ email: 'race@example.test' }).expect(201);
    const [{ uuid }] = await send({ to: ['race@example.test'] });
    await settled(uuid, 'suppressed');
    await ws.api('delete', '/v1/suppressions/race@example.test').expect(204);

    // Another process drops the bytes, holding the request's row as AttachmentsRepository.release does.
    const dropper = new Client({ connectionString: t.config.databaseUrl });
    await dropper.connect();
    try {
      await dropper.query('BEGIN');
      await dropper.query(
        `SELECT 1 FROM email_requests WHERE id = (SELECT request_id FROM messages WHERE id = $1) FOR NO KEY UPDATE`,
        [uuid],
      );
      const retry = ws.api('post', `/v1/messages/${uuid}/retry`).then((res) => res);
      await eventually(waitingOnALock, { what: 'the retry to wait for the row lock' });
      await dropper.query(
        `UPDATE email_attachments SET content = NULL
          WHERE request_id = (SELECT request_id FROM messages WHERE id = $1)`,
        [uuid],
      );
      await dropper.query('COMMIT');
      const res = await retry;
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('not_retryable');
    } finally {
      await dropper.end();
    }
    expect((await read(uuid)).status).toBe('suppressed');
  });

  it('a drop that waits on a retry in flight sees the message released and keeps the bytes', async () => {
    await ws.api('post', '/v1/suppressions').send({ email: 'inflight@example.test' }).expect(201);
    const [{ uuid }] = await send({ to: ['inflight@example.test'] });
    await settled(uuid, 'suppressed');
    await t.db.query(`UPDATE messages SET updated_at = now() - interval '31 days' WHERE id = $1`, [uuid]);

    // A retry in another process: it holds the request's row (shared) while it releases the message.
    const retrier = new Client({ connectionString: t.config.databaseUrl });
    await retrier.connect();
    try {
      await retrier.query('BEGIN');
      await retrier.query(
        `SELECT 1 FROM email_requests WHERE id = (SELECT request_id FROM messages WHERE id = $1) FOR SHARE`,
        [uuid],
      );
      const pruned = store.prune();
      await eventually(waitingOnALock, { what: 'the drop to wait for the row lock' });
      await retrier.query(`UPDATE messages SET status = 'pending', updated_at = now() WHERE id = $1`, [uuid]);
      await retrier.query('COMMIT');
      await pruned;
    } finally {
      await retrier.end();
    }
    expect(await stored(uuid)).toEqual([true, true, true, true]);
  });
});
