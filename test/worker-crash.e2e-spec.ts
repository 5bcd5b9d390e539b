import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { AppProcess, startAppProcess } from './support/processes';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

describe('a worker killed mid-delivery', () => {
  let smtp: SmtpSink;
  let api: TestApp;
  let ws: Workspace;
  let sender: Sender;
  const workers: AppProcess[] = [];
  const CONCURRENCY = 20;

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

  const workerEnv = () => ({
    APP_ROLE: 'worker',
    DATABASE_URL: api.config.databaseUrl,
    REDIS_URL: api.config.redisUrl,
    QUEUE_PREFIX: api.config.queuePrefix,
    SMTP_URL: smtp.url,
    DELIVERY_CONCURRENCY: String(CONCURRENCY),
    DELIVERY_LEASE_MS: '3000',
    SWEEP_INTERVAL_MS: '500',
    SWEEP_GRACE_MS: '1000',
  });
  const countByStatus = async () => {
    const { rows } = await api.db.query(`SELECT status, count(*)::int AS n FROM messages GROUP BY status`);
    return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
  };

  it('retries its messages after their lease; all 300 end sent, duplicates bounded by what was in flight', async () => {
    smtp.setDelay(50);
    const recipients = Array.from({ length: 300 }, (_, i) => `k${i}@example.test`);
    for (let i = 0; i < 300; i += 50) {
      await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: recipients.slice(i, i + 50), subject: `crash ${i}`, text: 'x' })
        .expect(202);
    }
    const first = await startAppProcess(workerEnv());
    workers.push(first);
    await eventually(async () => smtp.messages.length >= 60, { what: 'some deliveries before the kill' });
    await first.kill('SIGKILL');
    const atKill = await countByStatus();
    const inFlight = atKill.sending ?? 0;
    expect(inFlight).toBeLessThanOrEqual(CONCURRENCY);

    smtp.setDelay(0);
    workers.push(await startAppProcess(workerEnv()));
    await eventually(async () => (await countByStatus()).sent === 300, {
      timeoutMs: 45000,
      what: 'all 300 messages sent after the restart',
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}; statuses ${JSON.stringify(await countByStatus())}`);
    });
    expect(await countByStatus()).toEqual({ sent: 300 });

    const received = smtp.messages.map((m) => m.envelopeTo[0]);
    expect(new Set(received)).toEqual(new Set(recipients));
    const duplicates = received.length - new Set(received).size;
    process.stdout.write(
      `worker SIGKILL: ${inFlight} in flight at the kill, ${duplicates} duplicate(s) received\n`,
    );
    expect(duplicates).toBeLessThanOrEqual(inFlight);

    const { rows } = await api.db.query(
      `SELECT count(*)::int AS n FROM message_events WHERE type = 'sending' AND (detail->>'recovered')::boolean`,
    );
    expect(rows[0].n).toBe(inFlight);
  });
});
