import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { startRedisServer, RedisServerHandle } from './support/redis-server';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

describe('Redis down while sending', () => {
  let redis: RedisServerHandle;
  let smtp: SmtpSink;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    redis = await startRedisServer();
    smtp = await startSmtpSink();
    t = await createTestApp({
      REDIS_URL: redis.url,
      SMTP_URL: smtp.url,
      SWEEP_INTERVAL_MS: '250',
      SWEEP_GRACE_MS: '1000',
      QUEUE_TIMEOUT_MS: '500',
    });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    await redis.close();
  });

  it('answers 202 from PostgreSQL alone, then queues and delivers every message once Redis is back', async () => {
    await redis.kill();
    const uuids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const res = await ws
        .api('post', '/v1/emails')
        .send({
          from: sender.email,
          to: [`a${i}@example.test`, `b${i}@example.test`],
          subject: `n${i}`,
          text: 'x',
        })
        .expect(202);
      expect(Date.now() - started).toBeLessThan(5000);
      uuids.push(...res.body.data.messages.map((m: { uuid: string }) => m.uuid));
    }
    const stored = await t.db.query(`SELECT status FROM messages WHERE id = ANY($1)`, [uuids]);
    expect(stored.rows.map((r) => r.status)).toEqual(Array(10).fill('pending'));

    const health = await t.http.get('/health').expect(503);
    expect(health.body).toMatchObject({ error: 'service_unavailable', down: ['redis'] });
    expect(health.body.message).toContain('redis');

    await redis.start();
    await eventually(
      async () => {
        const rows = await t.db.query(
          `SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND status = 'sent'`,
          [uuids],
        );
        return rows.rows[0].n === 10;
      },
      { timeoutMs: 30000, what: 'all 10 messages sent after Redis returned' },
    );
    const received = smtp.messages.map((m) => m.envelopeTo[0]).sort();
    expect(received).toEqual(
      [0, 1, 2, 3, 4].flatMap((i) => [`a${i}@example.test`, `b${i}@example.test`]).sort(),
    );
    await t.http.get('/health').expect(200);
  });
});
