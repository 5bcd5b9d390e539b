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

  it('stores the deliveries of events that happen meanwhile and posts each once when Redis is back', async () => {
    const hook = (
      await ws
        .api('post', '/v1/webhooks')
        .send({ url: receiver.url('/outage'), events: ['message.pending', 'message.sent'] })
        .expect(201)
    ).body.data;
    await redis.kill();
    const uuids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: [`outage${i}@example.test`], subject: 'outage', text: 'x' })
        .expect(202);
      uuids.push(res.body.data.messages[0].uuid);
    }
    // The dispatcher needs only PostgreSQL: the deliveries of the `pending` events are stored, their jobs are not queued.
    await eventually(
      async () => {
        const { rows } = await t.db.query(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'`,
          [hook.id],
        );
        return rows[0].n === 20;
      },
      { what: '20 stored deliveries while Redis is down' },
    );
    expect(receiver.received).toHaveLength(0);

    await redis.start();
    await eventually(async () => receiver.at('/outage').length >= 40, {
      timeoutMs: 30000,
      what: 'the pending and sent events of all 20 messages',
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const requests = receiver.at('/outage');
    for (const request of requests) verifyWebhook(request, hook.secret);
    const ids = requests.map((r) => String(r.headers['webhook-id']));
    expect(new Set(ids).size).toBe(ids.length);
    const seen = requests.map((r) => {
      const body = JSON.parse(r.body);
      return `${body.data.message.uuid} ${body.type}`;
    });
    expect(seen.sort()).toEqual(
      uuids.flatMap((uuid) => [`${uuid} message.pending`, `${uuid} message.sent`]).sort(),
    );
  });
});
