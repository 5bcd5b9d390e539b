import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { startAppProcess } from './support/processes';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

describe('graceful shutdown of a worker (SIGTERM)', () => {
  let smtp: SmtpSink;
  let api: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    api = await createTestApp({ APP_ROLE: 'api', SMTP_URL: smtp.url });
    ws = await createWorkspace(api);
    sender = await createSender(api, ws);
  });
  afterAll(async () => {
    await api.close();
    await smtp.close();
  });

  const statuses = async () => {
    const { rows } = await api.db.query(`SELECT status, count(*)::int AS n FROM messages GROUP BY status`);
    return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
  };

  it('finishes in-flight deliveries, takes no new job, exits 0; the rest is delivered by the next worker', async () => {
    const env = {
      APP_ROLE: 'worker',
      DATABASE_URL: api.config.databaseUrl,
      REDIS_URL: api.config.redisUrl,
      QUEUE_PREFIX: api.config.queuePrefix,
      SMTP_URL: smtp.url,
      DELIVERY_CONCURRENCY: '4',
      SWEEP_GRACE_MS: '2000',
      SWEEP_INTERVAL_MS: '500',
    };
    const recipients = Array.from({ length: 20 }, (_, i) => `t${i}@example.test`);
    await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: recipients, subject: 'shutdown', text: 'x' })
      .expect(202);

    smtp.setDelay(1500);
    const worker = await startAppProcess(env);
    await eventually(async () => (await statuses()).sending === 4, { what: '4 deliveries in flight' });
    const exitCode = await worker.kill('SIGTERM');
    expect(exitCode).toBe(0);

    const afterStop = await statuses();
    expect(afterStop.sending ?? 0).toBe(0);
    expect(afterStop.sent).toBeGreaterThanOrEqual(4);
    expect(afterStop.sent + (afterStop.pending ?? 0)).toBe(20);
    expect(smtp.messages).toHaveLength(afterStop.sent);

    smtp.setDelay(0);
    const next = await startAppProcess(env);
    try {
      await eventually(async () => (await statuses()).sent === 20, {
        what: 'all 20 sent by the next worker',
      });
    } finally {
      await next.kill('SIGKILL');
    }
    const received = smtp.messages.map((m) => m.envelopeTo[0]);
    expect(received.sort()).toEqual([...recipients].sort());
  });
});
