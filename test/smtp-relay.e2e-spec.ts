import { authenticate } from 'mailauth';
import { simpleParser } from 'mailparser';
import { randomBytes } from 'node:crypto';
import { createTransport } from 'nodemailer';
import { SmtpRelayServer } from '../src/modules/smtp-relay/smtp-relay.server';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, eventTypes, Sender, settledMessage } from './support/sending';
import { plainAuth, rawSmtp, RawSmtp, Reply } from './support/smtp-client';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

/** A message as a mailer writes it: multipart, a Cc, a Bcc header, a binary attachment, a non-ASCII subject, its own Message-ID. */
function mailerMessage(from: string, attachment: Buffer): Buffer {
  const base64 = attachment.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      `From: "Shop" <${from}>`,
      'To: Alice <alice@example.test>',
      'Cc: carol@example.test',
      'Bcc: hidden@example.test',
      'Subject: =?UTF-8?B?' + Buffer.from('Grüße, Ihre Rechnung').toString('base64') + '?=',
      'Message-ID: <client-own-id-42@mailer.example>',
      'X-Leadpush-Tag: invoice',
      'X-Mailer: Legacy App 1.0',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      'This is a multi-part message.',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Grüße  with two spaces   and a trailing one ',
      '--b1',
      'Content-Type: application/octet-stream; name="blob.bin"',
      'Content-Disposition: attachment; filename="blob.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      base64,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

const headerBlock = (raw: Buffer) => raw.subarray(0, raw.indexOf('\r\n\r\n') + 2).toString('utf8');
const body = (raw: Buffer) => raw.subarray(raw.indexOf('\r\n\r\n') + 4);

describe('SMTP relay (SPEC §11)', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let port: number;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ SMTP_URL: smtp.url, SMTP_RELAY_PORT: '0', RATE_LIMIT_RPS: '30' });
    port = t.app.get(SmtpRelayServer).port() as number;
    ws = await createWorkspace(t);
    sender = await createSender(t, ws, { name: 'Shop' });
  });
  afterEach(() => smtp.reset());
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  /** A raw session, EHLO'd and (with a token) authenticated with AUTH PLAIN. */
  async function session(token?: string): Promise<RawSmtp> {
    const c = await rawSmtp(port);
    expect((await c.command('EHLO client.test')).code).toBe(250);
    if (token)
      expect(await c.command(`AUTH PLAIN ${plainAuth('any-user', token)}`)).toMatchObject({ code: 235 });
    return c;
  }

  it('advertises PIPELINING, 8BITMIME, SMTPUTF8, SIZE and AUTH, and no STARTTLS without a certificate', async () => {
    const c = await rawSmtp(port);
    const ehlo = await c.command('EHLO client.test');
    c.close();
    for (const ext of [
      'PIPELINING',
      '8BITMIME',
      'SMTPUTF8',
      `SIZE ${10 * 1024 * 1024}`,
      'AUTH PLAIN LOGIN',
    ]) {
      expect(ehlo.text.split('\n')).toContain(ext);
    }
    expect(ehlo.text).not.toMatch(/STARTTLS/);
  });

  it('answers each refusal of §11 with its code at its stage', async () => {
    const c = await session();
    expect(await c.command('MAIL FROM:<a@b.test>')).toMatchObject({
      code: 530,
      text: expect.stringMatching(/^5\.7\.0 /),
    });
    expect(await c.command(`AUTH PLAIN ${plainAuth('u', 'lp_live_not-a-real-key')}`)).toMatchObject({
      code: 535,
      text: expect.stringMatching(/^5\.7\.8 /),
    });
    c.close();

    const noPlan = await createWorkspace(t, { features: {} });
    const c2 = await session(noPlan.token);
    expect(await c2.command('MAIL FROM:<a@b.test>')).toMatchObject({
      code: 550,
      text: expect.stringMatching(/^5\.7\.1 .*upgrade_needed/),
    });
    c2.close();

    const unverified = await createWorkspace(t, { email_verified: false });
    const c3 = await session(unverified.token);
    expect(await c3.command('MAIL FROM:<a@b.test>')).toMatchObject({
      code: 550,
      text: expect.stringMatching(/^5\.7\.1 .*email_verification_required/),
    });
    c3.close();

    const c4 = await session(ws.token);
    expect(await c4.command(`MAIL FROM:<${sender.email}> SIZE=${10 * 1024 * 1024 + 1}`)).toMatchObject({
      code: 552,
      text: expect.stringMatching(/^5\.3\.4 /),
    });
    expect((await c4.command(`MAIL FROM:<${sender.email}> SIZE=${10 * 1024 * 1024}`)).code).toBe(250);
    const paths = [
      '<user@localhost>',
      '<a..b@example.test>',
      '<x@-bad-.test>',
      '<nobody>',
      '<a@>',
      '<@b.test>',
      'x@y.test',
      '<>',
    ];
    for (const path of paths) {
      expect(await c4.command(`RCPT TO:${path}`)).toMatchObject({
        code: 553,
        text: expect.stringMatching(/^5\.1\.3 /),
      });
    }
    for (let i = 0; i < 50; i++) expect((await c4.command(`RCPT TO:<r${i}@example.test>`)).code).toBe(250);
    expect((await c4.command('RCPT TO:<R0@Example.test>')).code).toBe(250);
    expect(await c4.command('RCPT TO:<r50@example.test>')).toMatchObject({
      code: 452,
      text: expect.stringMatching(/^4\.5\.3 /),
    });
    expect((await c4.command('RSET')).code).toBe(250);

    const transaction = async (headers: string[]) => {
      expect((await c4.command(`MAIL FROM:<${sender.email}>`)).code).toBe(250);
      expect((await c4.command('RCPT TO:<x@example.test>')).code).toBe(250);
      expect((await c4.command('DATA')).code).toBe(354);
      return c4.send([...headers, 'Subject: s', '', 'body', '.', ''].join('\r\n'));
    };
    expect(await transaction([`From: someone@unverified.test`])).toMatchObject({
      code: 550,
      text: expect.stringMatching(/^5\.7\.1 .*sender_not_verified/),
    });
    expect(await transaction([`From: ${sender.email}`, 'X-Leadpush-Route: x'])).toMatchObject({
      code: 550,
      text: expect.stringMatching(/^5\.7\.1 .*X-Leadpush-Route/),
    });
    const longHeader = `X-Long: ${'x'.repeat(998)}`;
    expect(
      await transaction([`From: ${sender.email}`, ...Array.from({ length: 1100 }, () => longHeader)]),
    ).toMatchObject({ code: 552, text: expect.stringMatching(/^5\.3\.4 The header block exceeds/) });

    expect((await c4.command(`MAIL FROM:<${sender.email}>`)).code).toBe(250);
    expect((await c4.command('RCPT TO:<x@example.test>')).code).toBe(250);
    expect((await c4.command('DATA')).code).toBe(354);
    const line = `${'x'.repeat(998)}\r\n`;
    const big = `From: ${sender.email}\r\nSubject: big\r\n\r\n${line.repeat(Math.ceil((10 * 1024 * 1024) / line.length) + 10)}.\r\n`;
    expect(await c4.send(big)).toMatchObject({ code: 552, text: expect.stringMatching(/^5\.3\.4 /) });
    c4.close();

    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE workspace_id = $1`, [
      ws.workspaceId,
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('answers 451 4.7.1 once a key sends more messages per second than RATE_LIMIT_RPS', async () => {
    const limited = await createWorkspace(t);
    const c = await session(limited.token);
    // 70 messages in one write: processed within at most two one-second windows, one of which gets more than 30.
    const replies = await c.pipeline(
      Array.from({ length: 70 }, () => ['MAIL FROM:<a@b.test>', 'RSET']).flat(),
    );
    c.close();
    const mailFrom = replies.filter((_, i) => i % 2 === 0);
    expect(mailFrom.slice(0, 30).every((r) => r.code === 250)).toBe(true);
    const limitedReplies = mailFrom.filter((r) => r.code === 451);
    expect(limitedReplies.length).toBeGreaterThan(0);
    for (const r of limitedReplies) expect(r.text).toMatch(/^4\.7\.1 /);
  });

  it('takes AUTH LOGIN with any user name and the API key as password', async () => {
    const c = await session();
    expect((await c.command('AUTH LOGIN')).code).toBe(334);
    expect((await c.command(Buffer.from('whoever').toString('base64'))).code).toBe(334);
    expect((await c.command(Buffer.from(ws.token).toString('base64'))).code).toBe(235);
    expect((await c.command(`MAIL FROM:<${sender.email}>`)).code).toBe(250);
    c.close();
  });

  it('delivers a mailer message: one transaction per envelope recipient, as written but for §11 rewrites, DKIM-signed', async () => {
    const attachment = randomBytes(3000);
    const raw = mailerMessage(sender.email, attachment);
    const transport = createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      auth: { user: 'app', pass: ws.token },
    });
    const info = await transport.sendMail({
      envelope: {
        from: sender.email,
        to: ['Alice@Example.test', 'carol@example.test', 'hidden@example.test', 'alice@example.test'],
      },
      raw,
    });
    transport.close();
    expect(info.response).toMatch(/^250 /);

    const list = await ws.api('get', '/v1/messages').expect(200);
    const listed = list.body.data.filter((m: { source: string }) => m.source === 'smtp');
    expect(listed.map((m: { recipient: string; type: string }) => [m.recipient, m.type]).sort()).toEqual([
      ['alice@example.test', 'to'],
      ['carol@example.test', 'to'],
      ['hidden@example.test', 'bcc'],
    ]);
    for (const m of listed) {
      const final = await settledMessage(ws, m.uuid);
      expect(final).toMatchObject({
        status: 'sent',
        tag: 'invoice',
        source: 'smtp',
        test: false,
        subject: 'Grüße, Ihre Rechnung',
      });
      expect(eventTypes(final.events)).toEqual(['pending', 'sending', 'sent']);
    }

    expect(smtp.messages.map((m) => m.envelopeTo).sort()).toEqual([
      ['alice@example.test'],
      ['carol@example.test'],
      ['hidden@example.test'],
    ]);
    const domain = await ws.api('get', `/v1/domains/${sender.domainId}`).expect(200);
    const dkimRecord = domain.body.data.records.find((r: { name: string }) =>
      r.name.includes('._domainkey.'),
    );
    const original = headerBlock(raw);
    const originalLine = (name: string) =>
      original.split('\r\n').find((l) => l.startsWith(`${name}:`)) as string;
    for (const received of smtp.messages) {
      const head = headerBlock(received.raw);
      expect(head).not.toMatch(/^bcc:/im);
      expect(received.raw.toString('latin1')).not.toMatch(/hidden@example\.test/i);
      expect(head).not.toMatch(/^x-leadpush-/im);
      for (const name of [
        'From',
        'To',
        'Cc',
        'Subject',
        'Message-ID',
        'X-Mailer',
        'MIME-Version',
        'Content-Type',
      ]) {
        expect(head.split('\r\n')).toContain(originalLine(name));
      }
      expect(head).toMatch(/^Date: /m);
      expect(body(received.raw).equals(body(raw))).toBe(true);
      const parsed = await simpleParser(received.raw);
      expect(parsed.attachments[0].content.equals(attachment)).toBe(true);
      const auth = await authenticate(received.raw, {
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

  /** One message over a raw session: From the sender, To the recipient; answers the reply to the end of DATA. */
  async function sendPlain(token: string, to: string, extraHeaders = ''): Promise<Reply> {
    const c = await session(token);
    expect((await c.command(`MAIL FROM:<${sender.email}>`)).code).toBe(250);
    expect((await c.command(`RCPT TO:<${to}>`)).code).toBe(250);
    expect((await c.command('DATA')).code).toBe(354);
    const reply = await c.send(
      `From: ${sender.email}\r\nTo: ${to}\r\n${extraHeaders}Subject: plain\r\n\r\nhello\r\n.\r\n`,
    );
    c.close();
    return reply;
  }
  const listedFor = async (recipient: string) => {
    const { body } = await ws
      .api('get', `/v1/messages?recipient=${encodeURIComponent(recipient)}`)
      .expect(200);
    return body.data[0];
  };

  it('adds a missing Message-ID and Date', async () => {
    expect((await sendPlain(ws.token, 'plain@example.test')).code).toBe(250);
    const message = await listedFor('plain@example.test');
    await settledMessage(ws, message.uuid, 'sent');
    expect(smtp.messages.map((m) => m.envelopeTo)).toEqual([['plain@example.test']]);
    const head = headerBlock(smtp.messages[0].raw);
    expect(head).toContain(`Message-ID: <${message.uuid}@${sender.domain}>`);
    expect(head).toMatch(/^Date: /m);
  });

  it("replaces From by a contact's delivery route", async () => {
    const route = await ws
      .api('post', '/v1/addresses')
      .send({ email: `route@${sender.domain}`, name: 'Route Desk' })
      .expect(201);
    await ws
      .api('post', '/v1/contacts')
      .send({ email: 'routed@example.test', delivery_address_id: route.body.data.id })
      .expect(201);
    expect((await sendPlain(ws.token, 'routed@example.test')).code).toBe(250);
    const message = await listedFor('routed@example.test');
    expect(message.from).toBe(`route@${sender.domain}`);
    await settledMessage(ws, message.uuid, 'sent');
    const head = headerBlock(smtp.messages[0].raw);
    expect(head.split('\r\n')).toContain(`From: "Route Desk" <route@${sender.domain}>`);
    expect(head).not.toContain(`From: ${sender.email}`);
  });

  it('holds a suppressed recipient back, as for the API', async () => {
    await ws.api('post', '/v1/suppressions').send({ email: 'blocked@example.test' }).expect(201);
    expect((await sendPlain(ws.token, 'blocked@example.test')).code).toBe(250);
    const message = await listedFor('blocked@example.test');
    expect(await settledMessage(ws, message.uuid)).toMatchObject({ status: 'suppressed', source: 'smtp' });
    expect(smtp.messages).toHaveLength(0);
  });

  const storedRaw = async (uuid: string) =>
    (
      await t.db.query(
        `SELECT count(*)::int AS n FROM email_raw_content c JOIN messages m ON m.request_id = c.request_id
          WHERE m.id = $1`,
        [uuid],
      )
    ).rows[0].n as number;

  it('keeps the raw message while a message may still be retried, and drops it once none can be delivered again', async () => {
    await ws.api('post', '/v1/suppressions').send({ email: 'kept@example.test' }).expect(201);
    expect((await sendPlain(ws.token, 'kept@example.test')).code).toBe(250);
    const held = await listedFor('kept@example.test');
    await settledMessage(ws, held.uuid, 'suppressed');
    expect(await storedRaw(held.uuid)).toBe(1);

    await ws.api('delete', '/v1/suppressions/kept@example.test').expect(204);
    await ws.api('post', `/v1/messages/${held.uuid}/retry`).expect(202);
    await settledMessage(ws, held.uuid, 'sent');
    expect(smtp.messages.map((m) => m.envelopeTo)).toEqual([['kept@example.test']]);
    await eventually(async () => (await storedRaw(held.uuid)) === 0, {
      what: 'the raw message to be dropped',
    });
    await ws.api('get', `/v1/messages/${held.uuid}`).expect(200);
  });

  it("simulates a test key's messages: every status, never SMTP", async () => {
    const key = await t
      .admin('post', `/admin/v1/workspaces/${ws.workspaceId}/api-keys`)
      .send({ name: 'smtp test', mode: 'test' })
      .expect(201);
    expect((await sendPlain(key.body.data.token, 'bounced@example.test')).code).toBe(250);
    const message = await listedFor('bounced@example.test');
    expect(await settledMessage(ws, message.uuid, 'bounced')).toMatchObject({ test: true, source: 'smtp' });
    expect((await sendPlain(ws.token, 'after-test@example.test')).code).toBe(250);
    await settledMessage(ws, (await listedFor('after-test@example.test')).uuid, 'sent');
    expect(smtp.messages.map((m) => m.envelopeTo)).toEqual([['after-test@example.test']]);
  });

  it('takes an internationalized recipient with SMTPUTF8 and 8-bit content with 8BITMIME', async () => {
    const c = await session(ws.token);
    expect((await c.command(`MAIL FROM:<${sender.email}> BODY=8BITMIME SMTPUTF8`)).code).toBe(250);
    expect((await c.command('RCPT TO:<Jörg@example.test>')).code).toBe(250);
    expect((await c.command('DATA')).code).toBe(354);
    const reply = await c.send(
      Buffer.from(
        `From: ${sender.email}\r\nTo: jörg@example.test\r\nSubject: Grüße\r\n\r\nGrüße, Jörg\r\n.\r\n`,
      ),
    );
    c.close();
    expect(reply.code).toBe(250);
    const message = await listedFor('jörg@example.test');
    expect(message).toMatchObject({ type: 'to', subject: 'Grüße' });
    await settledMessage(ws, message.uuid, 'sent');
    expect(smtp.messages[0].envelopeTo).toEqual(['jörg@example.test']);
    expect(body(smtp.messages[0].raw).toString('utf8')).toBe('Grüße, Jörg\r\n');
  });

  it('answers pipelined commands in order', async () => {
    const c = await session(ws.token);
    const replies = await c.pipeline([
      `MAIL FROM:<${sender.email}>`,
      'RCPT TO:<pipe1@example.test>',
      'RCPT TO:<user@localhost>',
      'RCPT TO:<pipe2@example.test>',
      'DATA',
    ]);
    expect(replies.map((r) => r.code)).toEqual([250, 250, 553, 250, 354]);
    const reply = await c.send(
      `From: ${sender.email}\r\nTo: pipe1@example.test\r\nSubject: p\r\n\r\nx\r\n.\r\n`,
    );
    c.close();
    expect(reply.code).toBe(250);
    expect(await listedFor('pipe1@example.test')).toMatchObject({ type: 'to' });
    expect(await listedFor('pipe2@example.test')).toMatchObject({ type: 'bcc' });
  });

  it('fails a revoked key at once, at AUTH and at the next MAIL FROM', async () => {
    const key = await t
      .admin('post', `/admin/v1/workspaces/${ws.workspaceId}/api-keys`)
      .send({ name: 'to revoke' })
      .expect(201);
    const c = await session(key.body.data.token);
    expect((await c.command(`MAIL FROM:<${sender.email}>`)).code).toBe(250);
    expect((await c.command('RSET')).code).toBe(250);
    await ws.api('delete', `/v1/api-keys/${key.body.data.id}`).expect(204);
    expect(await c.command(`MAIL FROM:<${sender.email}>`)).toMatchObject({ code: 535 });
    c.close();
    const again = await session();
    expect(await again.command(`AUTH PLAIN ${plainAuth('u', key.body.data.token)}`)).toMatchObject({
      code: 535,
    });
    again.close();
  });
});
