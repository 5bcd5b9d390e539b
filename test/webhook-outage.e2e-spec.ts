import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { RedisServerHandle, startRedisServer } from './support/redis-server';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import { startWebhookReceiver, verifyWebhook, WebhookReceiver } from './support/webhook-receiver';

describe('webhooks while Redis is down', () => {
  let redis: RedisServerHandle;
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    redis = await startRedisServer();
    smtp = await startSmtpSink();
    receiver = await startWebhookReceiver();
    t = await createTestApp({
      REDIS_URL: redis.url,
      SMTP_URL: smtp.url,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      WEBHOOK_RETRY_SCHEDULE: '200ms',
      SWEEP_INTERVAL_MS: '250',
      SWEEP_GRACE_MS: '1000',
      QUEUE_TIMEOUT_MS: '500',
    });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    await smtp.close();
    await redis.close();
  });

  it('posts the first attempts of events meanwhile, keeps the retries until Redis is back, each event once', async () => {
    const FAILED = 5;
    const hook = (
      await ws
        .api('post', '/v1/webhooks')
        .send({ url: receiver.url('/outage'), events: ['message.pending', 'message.sent'] })
        .expect(201)
    ).body.data;
    receiver.answer('/outage', (n) => ({ status: n < FAILED ? 503 : 200 }));
    await redis.kill();
    const uuids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: [`outage${i}@example.test`], subject: 'outage', text: 'x' })
        .expect(202);
      uuids.push(res.body.data.messages[0].uuid);
    }
    // The dispatcher and a first attempt need only PostgreSQL: the deliveries of the `pending` events are
    // stored and attempted at once; a retry needs a Bull job, so the failed ones wait for Redis.
    const statuses = async () => {
      const { rows } = await t.db.query(
        `SELECT status, attempts, count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1
          GROUP BY status, attempts ORDER BY status`,
        [hook.id],
      );
      return rows;
    };
    const whileDown = [
      { status: 'pending', attempts: 1, n: FAILED },
      { status: 'succeeded', attempts: 1, n: 20 - FAILED },
    ];
    await eventually(async () => JSON.stringify(await statuses()) === JSON.stringify(whileDown), {
      what: 'the first attempts of 20 deliveries while Redis is down, 5 of them failed',
    });
    // Past the retry delay and the sweeper's grace: still waiting, the retries cannot be queued.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await statuses()).toEqual(whileDown);
    expect(receiver.at('/outage')).toHaveLength(20);

    await redis.start();
    await eventually(async () => receiver.at('/outage').length >= 40 + FAILED, {
      timeoutMs: 30000,
      what: 'the retries, and the pending and sent events of all 20 messages',
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const requests = receiver.at('/outage');
    for (const request of requests) verifyWebhook(request, hook.secret);
    const failed = requests.slice(0, FAILED).map((r) => String(r.headers['webhook-id']));
    const answered = requests.slice(FAILED);
    const ids = answered.map((r) => String(r.headers['webhook-id']));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(failed));
    const seen = answered.map((r) => {
      const body = JSON.parse(r.body);
      return `${body.data.message.uuid} ${body.type}`;
    });
    expect(seen.sort()).toEqual(
      uuids.flatMap((uuid) => [`${uuid} message.pending`, `${uuid} message.sent`]).sort(),
    );
  });
});
