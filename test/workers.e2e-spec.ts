import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { AppProcess, startAppProcess } from './support/processes';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

describe('two worker processes on one queue', () => {
  let smtp: SmtpSink;
  let api: TestApp;
  let ws: Workspace;
  let sender: Sender;
  const workers: AppProcess[] = [];

  beforeAll(async () => {
    smtp = await startSmtpSink();
    api = await createTestApp({ APP_ROLE: 'api', SMTP_URL: smtp.url });
    ws = await createWorkspace(api);
    sender = await createSender(api, ws);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await api.close();
    await smtp.close();
  });

  it('delivers 500 messages, each exactly once', async () => {
    const env = {
      APP_ROLE: 'worker',
      DATABASE_URL: api.config.databaseUrl,
      REDIS_URL: api.config.redisUrl,
      QUEUE_PREFIX: api.config.queuePrefix,
      SMTP_URL: smtp.url,
      DELIVERY_CONCURRENCY: '10',
      SWEEP_GRACE_MS: '2000',
      SWEEP_INTERVAL_MS: '500',
    };
    workers.push(...(await Promise.all([startAppProcess(env), startAppProcess(env)])));

    const recipients = Array.from({ length: 500 }, (_, i) => `w${i}@example.test`);
    for (let i = 0; i < 500; i += 50) {
      await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: recipients.slice(i, i + 50), subject: `batch ${i}`, text: 'x' })
        .expect(202);
    }
    await smtp.waitFor(500, 60000);
    await eventually(
      async () => {
        const { rows } = await api.db.query(`SELECT count(*)::int AS n FROM messages WHERE status = 'sent'`);
        return rows[0].n === 500;
      },
      { timeoutMs: 30000, what: '500 messages sent' },
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const received = smtp.messages.map((m) => m.envelopeTo.join(','));
    expect(received).toHaveLength(500);
    expect(new Set(received).size).toBe(500);
    expect([...received].sort()).toEqual([...recipients].sort());
    const { rows } = await api.db.query(
      `SELECT count(*)::int AS n FROM message_events WHERE type = 'sending'`,
    );
    expect(rows[0].n).toBe(500);
  });
});
