import Redis from 'ioredis';
import { DELIVERY_QUEUE, DeliveryJobId } from '../src/modules/delivery/delivery.jobs';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { startRedisServer, RedisServerHandle } from './support/redis-server';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

/** Generous bound on one request while Redis is down: it must not hang on Redis. */
const REQUEST_BOUND_MS = 3000;

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

  const sendMany = async (prefix: string, count: number) => {
    const uuids: string[] = [];
    for (let i = 0; i < count; i++) {
      const started = Date.now();
      const res = await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: [`${prefix}${i}@example.test`], subject: `${prefix}${i}`, text: 'x' })
        .expect(202);
      expect(Date.now() - started).toBeLessThan(REQUEST_BOUND_MS);
      uuids.push(res.body.data.messages[0].uuid);
    }
    return uuids;
  };
  const allSent = (uuids: string[]) =>
    eventually(
      async () => {
        const { rows } = await t.db.query(
          `SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND status = 'sent'`,
          [uuids],
        );
        return rows[0].n === uuids.length;
      },
      { timeoutMs: 30000, what: `${uuids.length} messages sent` },
    );
  const receivedWith = (prefix: string) =>
    smtp.messages.map((m) => m.envelopeTo[0]).filter((address) => address.startsWith(prefix));

  it('answers 202 from PostgreSQL alone, then queues and delivers every message exactly once when Redis is back', async () => {
    await redis.kill();
    const uuids = await sendMany('down', 100);
    const stored = await t.db.query(`SELECT status FROM messages WHERE id = ANY($1)`, [uuids]);
    expect(stored.rows.map((r) => r.status)).toEqual(Array(100).fill('pending'));

    const health = await t.http.get('/health').expect(503);
    expect(health.body).toEqual({
      error: 'service_unavailable',
      message: 'Unhealthy: redis down',
      down: ['redis'],
    });
    expect(health.headers['retry-after']).toBe('5');

    await redis.start();
    await allSent(uuids);
    const received = receivedWith('down');
    expect(received).toHaveLength(100);
    expect(new Set(received).size).toBe(100);
    await t.http.get('/health').expect(200);
  });

  it('keeps consuming jobs after further Redis restarts', async () => {
    for (const round of [1, 2]) {
      await redis.stop();
      await redis.start();
      await eventually(async () => (await t.http.get('/health')).status === 200, { what: 'Redis back' });
      const uuids = await sendMany(`round${round}-`, 10);
      await allSent(uuids);
      expect(receivedWith(`round${round}-`)).toHaveLength(10);
    }
  });
});

describe('Redis losing its data', () => {
  it('re-queues stored messages whose jobs vanished, and delivers each once', async () => {
    const redis = await startRedisServer();
    const smtp = await startSmtpSink();
    const api = await createTestApp({ APP_ROLE: 'api', REDIS_URL: redis.url, SMTP_URL: smtp.url });
    let worker: TestApp | undefined;
    try {
      const ws = await createWorkspace(api);
      const sender = await createSender(api, ws);
      const recipients = Array.from({ length: 20 }, (_, i) => `lost${i}@example.test`);
      await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: recipients, subject: 'lost', text: 'x' })
        .expect(202);
      const probe = new Redis(redis.url);
      await eventually(async () => (await probe.keys(`${api.config.queuePrefix}:*`)).length > 0, {
        what: 'the job queued',
      });
      probe.disconnect();

      await redis.kill();
      await redis.start();
      worker = await createTestApp({
        APP_ROLE: 'worker',
        DATABASE_URL: api.config.databaseUrl,
        QUEUE_PREFIX: api.config.queuePrefix,
        REDIS_URL: redis.url,
        SMTP_URL: smtp.url,
        SWEEP_INTERVAL_MS: '250',
        SWEEP_GRACE_MS: '500',
      });
      await smtp.waitFor(20, 20000);
      await eventually(async () => {
        const { rows } = await api.db.query(`SELECT count(*)::int AS n FROM messages WHERE status = 'sent'`);
        return rows[0].n === 20;
      });
      expect(smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([...recipients].sort());
    } finally {
      await worker?.close();
      await api.close();
      await smtp.close();
      await redis.close();
    }
  });
});

describe('Redis not answering while sending', () => {
  let redis: RedisServerHandle;
  let smtp: SmtpSink;

  beforeAll(async () => {
    redis = await startRedisServer();
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    await smtp.close();
    await redis.close();
  });

  /** Far beyond REQUEST_BOUND_MS: a send that waited for Redis would miss the bound. */
  const QUEUE_TIMEOUT_MS = '30000';
  const send = (ws: Workspace, sender: Sender, to: string) =>
    ws
      .api('post', '/v1/emails')
      .timeout(REQUEST_BOUND_MS)
      .send({ from: sender.email, to: [to], subject: to, text: 'x' })
      .expect(202);
  const jobKey = async (t: TestApp, messageId: string) => {
    const { rows } = await t.db.query(`SELECT request_id FROM messages WHERE id = $1`, [messageId]);
    return `${t.config.queuePrefix}:${DELIVERY_QUEUE}:${DeliveryJobId.request(rows[0].request_id)}`;
  };

  it('answers 202 once the message is stored, and delivers it once when Redis answers again', async () => {
    const t = await createTestApp({ REDIS_URL: redis.url, SMTP_URL: smtp.url, QUEUE_TIMEOUT_MS });
    try {
      const ws = await createWorkspace(t);
      const sender = await createSender(t, ws);
      redis.pause();
      let uuid: string;
      try {
        uuid = (await send(ws, sender, 'stalled@example.test')).body.data.messages[0].uuid;
      } finally {
        redis.resume();
      }
      await eventually(
        async () => {
          const { rows } = await t.db.query(`SELECT status FROM messages WHERE id = $1`, [uuid]);
          return rows[0].status === 'sent';
        },
        { what: 'the message sent' },
      );
      expect(smtp.messages.filter((m) => m.envelopeTo[0] === 'stalled@example.test')).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  // What closing waits for is QueueWriter.settled() (queue-writer.e2e-spec); here, what a close leaves behind.
  it('leaves the job Redis had not answered queued once the app has closed', async () => {
    const t = await createTestApp({ APP_ROLE: 'api', REDIS_URL: redis.url, QUEUE_TIMEOUT_MS });
    const probe = new Redis(redis.url);
    try {
      const ws = await createWorkspace(t);
      const sender = await createSender(t, ws);
      redis.pause();
      let closing: Promise<void>;
      let uuid: string;
      try {
        uuid = (await send(ws, sender, 'closing@example.test')).body.data.messages[0].uuid;
        closing = t.closeApp();
      } finally {
        redis.resume();
      }
      await closing;
      expect(await probe.exists(await jobKey(t, uuid))).toBe(1);
    } finally {
      probe.disconnect();
      await t.close();
    }
  });
});
