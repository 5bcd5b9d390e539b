import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from './support/app';
import { subscribeWebhook, verifyWebhook } from './support/webhook-receiver';
import { startWebhookStack, WebhookStack } from './support/webhook-stack';

/** Long enough for a worker that dispatches every 50 ms and sweeps every 500 ms to have acted. */
const QUIET_MS = 1500;

describe('WORKER_QUEUES: workers that take on only delivery or only webhooks', () => {
  let webhooks: WebhookStack;
  const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_DISPATCH_INTERVAL_MS: '50' };

  beforeAll(async () => {
    webhooks = await startWebhookStack();
  });
  afterAll(() => webhooks.close());

  it('delivers mail only in a delivery worker and posts webhooks only in a webhooks worker', async () => {
    const { stack, receiver } = webhooks;
    const { secret } = await subscribeWebhook(stack.ws, receiver.url('/split'));
    const recipients = Array.from({ length: 5 }, (_, i) => `split${i}@example.test`);
    await stack.send(recipients, 'split workers');
    const deliveries = async () =>
      (await stack.api.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries`)).rows[0].n;

    const hooksOnly = await stack.startWorker({ ...env, WORKER_QUEUES: 'webhooks' });
    await sleep(QUIET_MS);
    expect(await stack.statuses()).toEqual({ pending: 5 });
    expect(stack.smtp.messages).toHaveLength(0);
    await hooksOnly.kill('SIGTERM');

    await stack.startWorker({ ...env, WORKER_QUEUES: 'delivery' });
    await eventually(async () => (await stack.statuses()).sent === 5, { what: 'five messages sent' });
    await sleep(QUIET_MS);
    expect(await deliveries()).toBe(0);
    expect(receiver.received).toHaveLength(0);

    await stack.startWorker({ ...env, WORKER_QUEUES: 'webhooks' });
    await eventually(async () => receiver.at('/split').length >= 5, { what: 'five webhooks' });
    const posted = receiver.at('/split').map((request) => verifyWebhook(request, secret) as { type: string });
    expect(posted.map((body) => body.type)).toEqual(Array(5).fill('message.sent'));
    expect(await deliveries()).toBe(5);
    expect(stack.smtp.messages).toHaveLength(5);
  });
});
