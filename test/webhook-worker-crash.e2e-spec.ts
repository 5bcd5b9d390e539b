import { eventually } from './support/app';
import { subscribeWebhook, verifyWebhook, WebhookReceiver } from './support/webhook-receiver';
import { startWebhookStack, WebhookStack } from './support/webhook-stack';
import { WorkerStack } from './support/worker-stack';

describe('a worker killed while webhook deliveries are pending', () => {
  let stack: WorkerStack;
  let receiver: WebhookReceiver;
  const MESSAGES = 150;
  const CONCURRENCY = 10;
  const env = {
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_DISPATCH_INTERVAL_MS: '50',
    WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms',
    SWEEP_INTERVAL_MS: '500',
    SWEEP_GRACE_MS: '1000',
  };

  let webhooks: WebhookStack;

  beforeAll(async () => {
    webhooks = await startWebhookStack();
    ({ stack, receiver } = webhooks);
  });
  afterAll(() => webhooks.close());

  it('posts every event at least once after a restart, the first attempts it held too; duplicates only for attempts that were in flight', async () => {
    const { secret } = await subscribeWebhook(stack.ws, receiver.url('/crash'));
    receiver.answer('/crash', () => ({ status: 200, delayMs: 200 }));
    const recipients = Array.from({ length: MESSAGES }, (_, i) => `w${i}@example.test`);
    await stack.send(recipients, 'webhook crash');

    const first = await stack.startWorker(env);
    await eventually(async () => receiver.received.length >= 30, { what: 'some webhooks before the kill' });
    await first.kill('SIGKILL');
    const held = await stack.api.db.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'sending'`,
    );
    const inFlight: number = held.rows[0].n;
    const pending = await webhooks.pendingWithJobs();
    const receivedAtKill = receiver.received.length;
    // First attempts the killed worker had taken and not started: never attempted, no job; only the sweeper finds them.
    const lost = pending.filter(({ attempts, job }) => attempts === 0 && !job).length;
    expect(inFlight).toBeGreaterThan(0);
    expect(inFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(pending.length).toBeGreaterThan(0);
    expect(lost).toBeGreaterThan(0);
    expect(receivedAtKill).toBeLessThan(MESSAGES);

    receiver.answer('/crash', () => ({ status: 200 }));
    await stack.startWorker(env);
    await eventually(
      async () => {
        const uuids = new Set(receiver.at('/crash').map((r) => JSON.parse(r.body).data.message.uuid));
        return uuids.size === MESSAGES;
      },
      { timeoutMs: 60000, what: `the sent events of all ${MESSAGES} messages` },
    ).catch(async (error: Error) => {
      const { rows } = await stack.api.db.query(
        `SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status`,
      );
      throw new Error(
        `${error.message}; deliveries ${JSON.stringify(rows)}, received ${receiver.received.length}`,
      );
    });

    // An attempt in flight at the kill may have reached the receiver already and be re-made after
    // its lease: everything is settled only once every delivery has succeeded.
    const settled = async () =>
      (await stack.api.db.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status`))
        .rows;
    await eventually(
      async () => {
        const rows = await settled();
        return rows.length === 1 && rows[0].status === 'succeeded';
      },
      { timeoutMs: 60000, what: 'every delivery to succeed' },
    );
    expect(await settled()).toEqual([{ status: 'succeeded', n: MESSAGES }]);

    const requests = receiver.at('/crash');
    for (const request of requests) verifyWebhook(request, secret);
    const ids = requests.map((r) => String(r.headers['webhook-id']));
    const duplicates = ids.length - new Set(ids).size;
    process.stdout.write(
      `webhook worker SIGKILL: ${inFlight} in flight and ${lost} never attempted and with no job, ${duplicates} duplicate(s) received\n`,
    );
    expect(duplicates).toBeLessThanOrEqual(inFlight);
    const interrupted = await stack.api.db.query(
      `SELECT count(*)::int AS n FROM webhook_attempts WHERE error LIKE 'interrupted:%'`,
    );
    expect(interrupted.rows[0].n).toBeLessThanOrEqual(inFlight);
  }, 150_000);
});
