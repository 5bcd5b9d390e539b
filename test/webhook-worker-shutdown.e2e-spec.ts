import { eventually } from './support/app';
import { subscribeWebhook, verifyWebhook, WebhookReceiver } from './support/webhook-receiver';
import { startWebhookStack, WebhookStack } from './support/webhook-stack';
import { WorkerStack } from './support/worker-stack';

describe('graceful shutdown of a worker making webhook attempts (SIGTERM)', () => {
  let stack: WorkerStack;
  let receiver: WebhookReceiver;
  const MESSAGES = 40;
  const CONCURRENCY = 4;
  const env = {
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    WEBHOOK_DISPATCH_INTERVAL_MS: '50',
    // Longer than the test: nothing here is left to the sweeper.
    SWEEP_GRACE_MS: '120000',
  };

  let webhooks: WebhookStack;

  beforeAll(async () => {
    webhooks = await startWebhookStack();
    ({ stack, receiver } = webhooks);
  });
  afterAll(() => webhooks.close());

  it('finishes the attempts in flight, hands the first attempts not started to Bull, exits 0', async () => {
    const { secret } = await subscribeWebhook(stack.ws, receiver.url('/term'));
    receiver.answer('/term', () => ({ status: 200, delayMs: 500 }));
    await stack.send(
      Array.from({ length: MESSAGES }, (_, i) => `term${i}@example.test`),
      'webhook shutdown',
    );
    const count = async (status: string): Promise<number> => {
      const { rows } = await stack.api.db.query(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = $1`,
        [status],
      );
      return rows[0].n;
    };

    const worker = await stack.startWorker(env);
    await eventually(async () => (await count('sending')) === CONCURRENCY && (await count('pending')) > 0, {
      what: `${CONCURRENCY} attempts in flight and more waiting`,
    });
    expect(await worker.kill('SIGTERM')).toBe(0);

    expect(await count('sending')).toBe(0);
    const pending = await webhooks.pendingWithJobs();
    expect(pending.length).toBeGreaterThan(0);
    // Every delivery left has its next attempt queued: none waits for the sweeper.
    expect(pending.filter(({ job }) => !job).map(({ id }) => id)).toEqual([]);
    const postedBeforeStop = receiver.at('/term').length;

    receiver.answer('/term', () => ({ status: 200 }));
    await stack.startWorker(env);
    await eventually(async () => (await count('succeeded')) === MESSAGES, {
      timeoutMs: 30000,
      what: `all ${MESSAGES} deliveries to succeed`,
    });
    const requests = receiver.at('/term');
    for (const request of requests) verifyWebhook(request, secret);
    const ids = requests.map((r) => String(r.headers['webhook-id']));
    expect(ids).toHaveLength(MESSAGES);
    expect(new Set(ids).size).toBe(MESSAGES);
    process.stdout.write(
      `webhook worker SIGTERM: ${postedBeforeStop} posted before the stop, ${pending.length} handed on\n`,
    );
  }, 90_000);
});
