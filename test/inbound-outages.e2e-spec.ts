import { InboundSmtpServer } from '../src/modules/inbound/inbound-smtp.server';
import { createTestApp, createWorkspace, eventually, TestApp } from './support/app';
import { freePort } from './support/processes';
import { rawSmtp } from './support/smtp-client';
import { deliverReport, FIXTURE_RETURN_PATH, reportFixture } from './support/reports';
import { RedisServerHandle, startRedisServer } from './support/redis-server';
import { createSender, settledMessage } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import { lockTable, TableLock } from './support/table-lock';
import { startWorkerStack, WorkerStack } from './support/worker-stack';

const BOUNCE_DOMAIN = 'bounces.leadpush.test';
const env = async () => ({
  BOUNCE_DOMAIN,
  BOUNCE_SIGNING_KEY: 'crash-e2e-signing-key-0123456789abcdefgh',
  INBOUND_SMTP_PORT: String(await freePort()),
  SWEEP_INTERVAL_MS: '300',
  SWEEP_GRACE_MS: '500',
});

describe('the inbound listener across worker stops', () => {
  let stack: WorkerStack;

  beforeAll(async () => {
    stack = await startWorkerStack();
  });
  afterAll(() => stack.close());

  it('loses nothing: a worker killed between the bounce and the outcome leaves neither; the next one processes the report', async () => {
    const workerEnv = await env();
    const first = await stack.startWorker(workerEnv);
    const recipient = 'gone@crash.example';
    await stack.send([recipient], 'crash');
    const delivered = await eventually(async () =>
      stack.smtp.messages.find((m) => m.envelopeTo[0] === recipient),
    );
    await eventually(async () => (await stack.statuses()).sent === 1, { what: 'the message sent' });
    const returnPath = delivered.envelopeFrom;
    expect(returnPath.endsWith(`@${BOUNCE_DOMAIN}`)).toBe(true);

    // Status changes wait behind the first lock: the worker takes the report, then blocks applying
    // it. The second, taken then (the report's row is locked, its INSERT long committed), lets the
    // bounce through and holds the report's outcome: the worker dies between the two writes, and
    // neither may stay.
    const messagesLock = await lockTable(stack.api, 'messages');
    let reportsLock: TableLock | undefined;
    try {
      const raw = reportFixture('postfix-user-unknown.eml', [
        [FIXTURE_RETURN_PATH, returnPath],
        ['nobody@example.org', recipient],
      ]);
      const result = await deliverReport(Number(workerEnv.INBOUND_SMTP_PORT), { to: [returnPath], raw });
      expect(result.data).toMatchObject({ code: 250 });
      await eventually(async () => (await messagesLock.waiting()) > 0, {
        what: 'the worker applying the report',
      });
      reportsLock = await lockTable(stack.api, 'inbound_reports', 'SHARE');
      await messagesLock.release();
      await eventually(async () => (await reportsLock!.waiting()) > 0, {
        what: 'the worker recording the outcome',
      });
      await first.kill('SIGKILL');
    } finally {
      await messagesLock.release();
      await reportsLock?.release();
    }
    const stored = await stack.api.db.query(
      `SELECT processed_at, raw IS NOT NULL AS has_raw FROM inbound_reports`,
    );
    expect(stored.rows).toEqual([{ processed_at: null, has_raw: true }]);
    expect(await stack.statuses()).toEqual({ sent: 1 });
    expect((await stack.api.db.query(`SELECT email FROM suppressions`)).rows).toEqual([]);

    await stack.startWorker(await env());
    // The bounce commits before the report is marked processed: wait for the report, not the status.
    const rows = await eventually(
      async () => {
        const { rows } = await stack.api.db.query(
          `SELECT outcome, raw IS NULL AS dropped_raw FROM inbound_reports WHERE processed_at IS NOT NULL`,
        );
        return rows.length > 0 ? rows : null;
      },
      { timeoutMs: 45_000, what: 'the report processed by the next worker' },
    );
    expect(rows).toEqual([{ outcome: 'applied', dropped_raw: true }]);
    expect(await stack.statuses()).toEqual({ bounced: 1 });
    const suppressions = await stack.api.db.query(`SELECT email, reason FROM suppressions`);
    expect(suppressions.rows).toEqual([{ email: recipient, reason: 'hard_bounce' }]);
  });

  it('SIGTERM: an open session is told 421, the worker exits 0 and the port is closed', async () => {
    const workerEnv = await env();
    const port = Number(workerEnv.INBOUND_SMTP_PORT);
    const worker = await stack.startWorker(workerEnv);
    const session = await rawSmtp(port);
    expect((await session.command('EHLO reporter.test')).code).toBe(250);
    expect(await worker.kill('SIGTERM')).toBe(0);
    // The 421 came while the session was idle; the client reads it as the answer to its next command.
    expect(await session.command('NOOP')).toMatchObject({ code: 421, text: '4.3.2 Server shutting down' });
    session.close();
    await expect(rawSmtp(port)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('the inbound listener while Redis is down', () => {
  let redis: RedisServerHandle;
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    sink = await startSmtpSink();
    t = await createTestApp({
      ...(await env()),
      REDIS_URL: redis.url,
      SMTP_URL: sink.url,
      INBOUND_SMTP_PORT: '0',
    });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await redis?.close();
  });

  it('answers 250 from PostgreSQL alone; the sweep queues the report once Redis is back', async () => {
    const ws = await createWorkspace(t);
    const sender = await createSender(t, ws);
    const recipient = 'outage@redis.example';
    const { body } = await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: [recipient], subject: 'x', text: 'x' })
      .expect(202);
    const uuid: string = body.data.messages[0].uuid;
    await settledMessage(ws, uuid, 'sent');
    const returnPath = sink.messages[0].envelopeFrom;

    await redis.stop();
    const raw = reportFixture('postfix-user-unknown.eml', [
      [FIXTURE_RETURN_PATH, returnPath],
      ['nobody@example.org', recipient],
    ]);
    const port = t.app.get(InboundSmtpServer).port()!;
    expect((await deliverReport(port, { to: [returnPath], raw })).data).toMatchObject({ code: 250 });
    const stored = await t.db.query(`SELECT processed_at FROM inbound_reports`);
    expect(stored.rows).toEqual([{ processed_at: null }]);

    await redis.start();
    const rows = await eventually(
      async () => {
        const { rows } = await t.db.query(
          `SELECT outcome FROM inbound_reports WHERE processed_at IS NOT NULL`,
        );
        return rows.length > 0 ? rows : null;
      },
      { what: 'the report processed once Redis is back' },
    );
    expect(rows).toEqual([{ outcome: 'applied' }]);
    await settledMessage(ws, uuid, 'bounced');
  });
});
