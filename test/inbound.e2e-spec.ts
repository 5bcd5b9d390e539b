import { randomUUID } from 'node:crypto';
import { messageOfReturnPath, returnPathFor } from '../src/modules/delivery/envelope';
import { InboundSmtpServer } from '../src/modules/inbound/inbound-smtp.server';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { deliverReport, FIXTURE_RETURN_PATH, reportFixture } from './support/reports';
import { createSender, type MessageEvent, Sender, settledMessage } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

const BOUNCE_DOMAIN = 'bounces.leadpush.test';
const SIGNING_KEY = 'inbound-e2e-signing-key-0123456789abcdef';
const METRICS_TOKEN = 'inbound-e2e-metrics-token-0123456789';

describe('bounces and complaints after the 250 (SPEC §13)', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let port: number;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({
      SMTP_URL: sink.url,
      BOUNCE_DOMAIN,
      BOUNCE_SIGNING_KEY: SIGNING_KEY,
      INBOUND_SMTP_PORT: '0',
      METRICS_TOKEN: METRICS_TOKEN,
      SWEEP_INTERVAL_MS: '200',
      SWEEP_GRACE_MS: '300',
    });
    port = t.app.get(InboundSmtpServer).port()!;
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  /** Sends one message to `recipient` from `who`, waits until it is sent, answers its uuid and return path. */
  async function sentTo(recipient: string, who: { ws: Workspace; sender: Sender } = { ws, sender }) {
    const { body } = await who.ws
      .api('post', '/v1/emails')
      .send({ from: who.sender.email, to: [recipient], subject: 'hello', text: 'x' })
      .expect(202);
    const uuid: string = body.data.messages[0].uuid;
    await settledMessage(who.ws, uuid, 'sent');
    const delivered = await eventually(async () =>
      sink.messages.find((m) => m.parsed.messageId === `<${uuid}@${who.sender.domain}>`),
    );
    return { uuid, returnPath: delivered.envelopeFrom };
  }

  const message = async (uuid: string, who = ws) =>
    (await who.api('get', `/v1/messages/${uuid}`).expect(200)).body.data;
  const suppressions = async (who = ws) =>
    (
      (await who.api('get', '/v1/suppressions').expect(200)).body.data as { email: string; reason: string }[]
    ).map((s) => [s.email, s.reason]);
  /** Waits until every report received so far is processed, and answers the outcome of the last one. */
  const processed = () =>
    eventually(
      async () => {
        const { rows } = await t.db.query(
          `SELECT outcome, detail, raw IS NULL AS dropped_raw, processed_at IS NOT NULL AS done
           FROM inbound_reports ORDER BY received_at DESC`,
        );
        return rows.length > 0 && rows.every((r) => r.done) ? rows[0] : null;
      },
      { what: 'the reports processed' },
    );

  /** leadpush_inbound_reports_total for a kind and outcome, as GET /metrics shows it. */
  const counted = async (kind: string, outcome: string) => {
    const { text } = await t.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`leadpush_inbound_reports_total{kind="${kind}",outcome="${outcome}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('delivers with a signed per-message return path at BOUNCE_DOMAIN', async () => {
    const { uuid, returnPath } = await sentTo('rp@example.org');
    expect(returnPath).toMatch(/^b-[a-z2-7]{26}-[a-z2-7]{16}@bounces\.leadpush\.test$/);
    expect(messageOfReturnPath(returnPath, BOUNCE_DOMAIN, Buffer.from(SIGNING_KEY))).toBe(uuid);
  });

  it('offers neither AUTH nor STARTTLS and takes mail for BOUNCE_DOMAIN only (550 5.7.1)', async () => {
    const { uuid } = await sentTo('nobody@example.org');
    const raw = reportFixture('postfix-user-unknown.eml');
    const result = await deliverReport(port, { to: ['postmaster@acme.example', 'b-x@other.example'], raw });
    expect(result.ehlo.text).not.toMatch(/AUTH|STARTTLS/);
    expect(result.rcptTo.map((r) => [r.code, r.text.slice(0, 5)])).toEqual([
      [550, '5.7.1'],
      [550, '5.7.1'],
    ]);
    expect(result.data).toBeNull();
    expect((await message(uuid)).status).toBe('sent');
  });

  it('a DSN (Postfix) to a message return path: bounced with the DSN detail, the address suppressed', async () => {
    const { uuid, returnPath } = await sentTo('nobody@example.org');
    const raw = reportFixture('postfix-user-unknown.eml', [[FIXTURE_RETURN_PATH, returnPath]]);
    const result = await deliverReport(port, { to: [returnPath], raw });
    expect(result.data).toMatchObject({ code: 250 });
    expect(await processed()).toMatchObject({ outcome: 'applied', dropped_raw: true });
    const data = await message(uuid);
    expect(data.status).toBe('bounced');
    expect(data.events.at(-1)).toMatchObject({
      type: 'bounced',
      detail: {
        dsn: true,
        status: '5.1.1',
        diagnostic_code:
          'smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table',
        remote_mta: 'mail.example.org',
      },
    });
    expect(await suppressions()).toContainEqual(['nobody@example.org', 'hard_bounce']);
  });

  it('a multi-recipient DSN: each message takes its own block; 5.2.2 bounces without suppressing, delayed records an event', async () => {
    const third = await sentTo('third+tag@multi.example');
    const second = await sentTo('second@multi.example');
    for (const { returnPath } of [third, second]) {
      const raw = reportFixture('multi-recipient.eml', [[FIXTURE_RETURN_PATH, returnPath]]);
      expect((await deliverReport(port, { to: [returnPath], raw })).data).toMatchObject({ code: 250 });
    }
    await processed();
    const bounced = await message(third.uuid);
    expect(bounced.status).toBe('bounced');
    expect(bounced.events.at(-1).detail).toMatchObject({ dsn: true, status: '5.2.2' });
    const delayed = await message(second.uuid);
    expect(delayed.status).toBe('sent');
    expect(delayed.events.at(-1)).toMatchObject({ type: 'delayed', detail: { dsn: true, status: '4.2.2' } });
    const listed = (await suppressions()).map(([email]) => email);
    expect(listed).not.toContain('third+tag@multi.example');
    expect(listed).not.toContain('second@multi.example');
    expect(listed).not.toContain('first@multi.example');
  });

  it('a delay report: a delayed event, the status unchanged', async () => {
    const { uuid, returnPath } = await sentTo('slow@busy.example');
    const raw = reportFixture('postfix-delayed.eml', [[FIXTURE_RETURN_PATH, returnPath]]);
    await deliverReport(port, { to: [returnPath], raw });
    await processed();
    const data = await message(uuid);
    expect(data.status).toBe('sent');
    expect(data.events.map((e: MessageEvent) => e.type).slice(-2)).toEqual(['sent', 'delayed']);
    expect(data.events.at(-1).detail).toMatchObject({ status: '4.4.1' });
  });

  it('a complaint (ARF, full original) to the feedback address: complained, the address suppressed', async () => {
    const { uuid, returnPath } = await sentTo('annoyed@example.com');
    const raw = reportFixture('arf-full.eml', [[FIXTURE_RETURN_PATH, returnPath]]);
    await deliverReport(port, { from: 'staff@hotmail.com', to: [`fbl@${BOUNCE_DOMAIN}`], raw });
    await processed();
    const data = await message(uuid);
    expect(data.status).toBe('complained');
    expect(data.events.at(-1).detail).toMatchObject({ arf: true, feedback_type: 'abuse' });
    expect(await suppressions()).toContainEqual(['annoyed@example.com', 'complaint']);
  });

  it('a complaint with headers only, found by our Message-ID; a client Message-ID or another domain finds nothing', async () => {
    const { uuid } = await sentTo('someone@yahoo.com');
    const strip = (messageId: string): [string, string][] => [
      [FIXTURE_RETURN_PATH, 'list@acme.example'],
      ['<0f1a2b3c-4d5e-4f6a-9b7c-8d9e0f1a2b3c@acme.example>', messageId],
    ];
    for (const foreign of [`<order-1042@${sender.domain}>`, `<${uuid}@elsewhere.example>`]) {
      await deliverReport(port, {
        to: [`fbl@${BOUNCE_DOMAIN}`],
        raw: reportFixture('arf-headers-only.eml', strip(foreign)),
      });
      expect(await processed()).toMatchObject({ outcome: 'dropped' });
    }
    expect((await message(uuid)).status).toBe('sent');
    const ours = reportFixture('arf-headers-only.eml', strip(`<${uuid}@${sender.domain}>`));
    await deliverReport(port, { to: [`fbl@${BOUNCE_DOMAIN}`], raw: ours });
    expect(await processed()).toMatchObject({ outcome: 'applied' });
    expect((await message(uuid)).status).toBe('complained');
    expect(await suppressions()).toContainEqual(['someone@yahoo.com', 'complaint']);
  });

  it.each([
    ['qmail.eml', 'nosuchuser@qmail.example'],
    ['exim-plain.eml', 'old@legacy.example'],
  ])(
    'a plain-text bounce (%s) that carries the return path: bounced, best effort',
    async (name, recipient) => {
      const { uuid, returnPath } = await sentTo(recipient);
      const raw = reportFixture(name, [[FIXTURE_RETURN_PATH, returnPath]]);
      await deliverReport(port, { to: [returnPath], raw });
      await processed();
      const data = await message(uuid);
      expect(data.status).toBe('bounced');
      expect(data.events.at(-1).detail).toMatchObject({ dsn: false, status: '5.1.1' });
    },
  );

  it('forged, altered and unknown return paths, replies and auto-replies change nothing, and are counted as dropped', async () => {
    const { uuid, returnPath } = await sentTo('nobody@example.org'.replace('nobody', 'keep'));
    const recipient = 'keep@example.org';
    const dsnFor = (to: string) =>
      reportFixture('postfix-user-unknown.eml', [
        [FIXTURE_RETURN_PATH, to],
        ['nobody@example.org', recipient],
      ]);
    const local = returnPath.slice(0, returnPath.indexOf('@'));
    const altered = `${local.slice(0, -1)}${local.endsWith('a') ? 'b' : 'a'}@${BOUNCE_DOMAIN}`;
    const otherMessage = returnPathFor(randomUUID(), BOUNCE_DOMAIN, Buffer.from(SIGNING_KEY));
    const forged = returnPathFor(uuid, BOUNCE_DOMAIN, Buffer.from('another-key-0123456789abcdef-0123456789'));
    const before = await t.db.query(
      `SELECT count(*)::int AS n FROM inbound_reports WHERE outcome = 'dropped'`,
    );
    const [dsnBefore, otherBefore] = [await counted('dsn', 'dropped'), await counted('other', 'dropped')];
    for (const to of [altered, otherMessage, forged, `bounces@${BOUNCE_DOMAIN}`]) {
      expect((await deliverReport(port, { to: [to], raw: dsnFor(to) })).data).toMatchObject({ code: 250 });
    }
    for (const name of ['human-reply.eml', 'auto-reply.eml']) {
      const raw = reportFixture(name, [
        [FIXTURE_RETURN_PATH, returnPath],
        ['nobody@example.org', recipient],
      ]);
      expect(
        (await deliverReport(port, { from: 'jane@example.org', to: [returnPath], raw })).data,
      ).toMatchObject({
        code: 250,
      });
    }
    await processed();
    const after = await t.db.query(
      `SELECT count(*)::int AS n FROM inbound_reports WHERE outcome = 'dropped'`,
    );
    expect(after.rows[0].n - before.rows[0].n).toBe(6);
    expect(await counted('dsn', 'dropped')).toBe(dsnBefore + 4);
    expect(await counted('other', 'dropped')).toBe(otherBefore + 2);
    const data = await message(uuid);
    expect(data.status).toBe('sent');
    expect(data.events.at(-1).type).toBe('sent');
    expect((await suppressions()).map(([email]) => email)).not.toContain(recipient);
  });

  it('a report for one workspace message never touches another workspace, even for the same address', async () => {
    const otherWs = await createWorkspace(t);
    const otherSender = await createSender(t, otherWs);
    const mine = await sentTo('shared@example.net');
    const theirs = await sentTo('shared@example.net', { ws: otherWs, sender: otherSender });
    const dsn = reportFixture('postfix-user-unknown.eml', [
      [FIXTURE_RETURN_PATH, mine.returnPath],
      ['nobody@example.org', 'shared@example.net'],
      ['<0b5f7a4e-3c1d-4e8f-9a2b-6c7d8e9f0a1b@acme.example>', `<${theirs.uuid}@${otherSender.domain}>`],
    ]);
    await deliverReport(port, { to: [mine.returnPath], raw: dsn });
    // A complaint sent to my return path whose original is theirs: the two disagree, nothing happens.
    const arf = reportFixture('arf-full.eml', [
      [FIXTURE_RETURN_PATH, theirs.returnPath],
      ['annoyed@example.com', 'shared@example.net'],
    ]);
    await deliverReport(port, { to: [mine.returnPath], raw: arf });
    await processed();
    expect((await message(mine.uuid)).status).toBe('bounced');
    expect(await suppressions()).toContainEqual(['shared@example.net', 'hard_bounce']);
    expect((await message(theirs.uuid, otherWs)).status).toBe('sent');
    expect(await suppressions(otherWs)).toEqual([]);
  });

  it('test-mode messages are bounced by a report but never change the suppression list', async () => {
    const key = await ws.api('post', '/v1/api-keys').send({ name: 'test key', mode: 'test' }).expect(201);
    const { body } = await t.http
      .post('/v1/emails')
      .set('Authorization', `Bearer ${key.body.data.token}`)
      .send({ from: sender.email, to: ['testmode@example.org'], subject: 'x', text: 'x' })
      .expect(202);
    const uuid: string = body.data.messages[0].uuid;
    await settledMessage(ws, uuid, 'sent');
    const returnPath = returnPathFor(uuid, BOUNCE_DOMAIN, Buffer.from(SIGNING_KEY));
    const raw = reportFixture('postfix-user-unknown.eml', [
      [FIXTURE_RETURN_PATH, returnPath],
      ['nobody@example.org', 'testmode@example.org'],
    ]);
    await deliverReport(port, { to: [returnPath], raw });
    await processed();
    expect((await message(uuid)).status).toBe('bounced');
    expect((await suppressions()).map(([email]) => email)).not.toContain('testmode@example.org');
  });

  it('hostile input: bad addresses are refused, any content is stored and dropped, never left unprocessed', async () => {
    const nul = await deliverReport(port, { to: [`a\u0000b@${BOUNCE_DOMAIN}`], raw: Buffer.from('x') });
    expect(nul.rcptTo[0].code).toBeGreaterThanOrEqual(500);
    expect(nul.data).toBeNull();
    const long = await deliverReport(port, {
      to: [`${'l'.repeat(600)}@${BOUNCE_DOMAIN}`],
      raw: Buffer.from('x'),
    });
    expect(long.rcptTo[0].code).toBeGreaterThanOrEqual(500);
    const contents = [
      Buffer.from([0, 1, 2, 0xff, 0xfe, 0xd8, 0x00, 13, 10]),
      Buffer.from(`Subject: \ud800 lone\r\nX-Big: ${'y'.repeat(300_000)}\r\n\r\nbody`),
      Buffer.from(
        'Content-Type: multipart/report; report-type=delivery-status; boundary=zz\r\n\r\n--zz\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\nFinal-Recipient: rfc822; \u0000@x\r\n',
      ),
    ];
    for (const raw of contents) {
      for (const from of ['', 'odd\u00e9@example.org']) {
        const result = await deliverReport(port, { from, to: [`x@${BOUNCE_DOMAIN}`], raw });
        expect(result.data).toMatchObject({ code: 250 });
      }
    }
    expect(await processed()).toMatchObject({ outcome: 'dropped' });
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM inbound_reports WHERE processed_at IS NULL`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('refuses a message over 10 MB with 552 5.3.4 and stores nothing', async () => {
    const before = await t.db.query(`SELECT count(*)::int AS n FROM inbound_reports`);
    const raw = Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(10_600));
    const result = await deliverReport(port, { to: [`big@${BOUNCE_DOMAIN}`], raw });
    expect(result.data).toMatchObject({ code: 552 });
    expect(result.data!.text).toMatch(/^5\.3\.4 /);
    const after = await t.db.query(`SELECT count(*)::int AS n FROM inbound_reports`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});
