import { eventually } from './support/app';
import { startWorkerStack, WorkerStack } from './support/worker-stack';

describe('a relay slower than the lease', () => {
  let stack: WorkerStack;
  const LEASE_MS = 2000;
  const RELAY_DELAY_MS = 5000;

  beforeAll(async () => {
    stack = await startWorkerStack();
  });
  afterAll(() => stack.close());

  it('keeps each message with the worker delivering it: every message is received exactly once', async () => {
    const { smtp } = stack;
    smtp.setDelay(RELAY_DELAY_MS);
    const env = {
      DELIVERY_LEASE_MS: String(LEASE_MS),
      DELIVERY_CONCURRENCY: '4',
      SWEEP_INTERVAL_MS: '250',
      SWEEP_GRACE_MS: '500',
    };
    await Promise.all([stack.startWorker(env), stack.startWorker(env)]);
    const recipients = Array.from({ length: 12 }, (_, i) => `slow${i}@example.test`);
    // Three requests: a request's messages are one job, which one worker takes.
    for (let i = 0; i < recipients.length; i += 4) await stack.send(recipients.slice(i, i + 4), 'slow relay');

    await eventually(async () => (await stack.statuses()).sending === 8, {
      timeoutMs: 30000,
      what: 'both workers delivering at once',
    });
    await eventually(async () => (await stack.statuses()).sent === recipients.length, {
      timeoutMs: 90000,
      what: 'every message sent',
    });
    // Longer than a lease and a sweep: a second claim of any message would have started by now.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2));
    expect(await stack.statuses()).toEqual({ sent: recipients.length });
    const received = smtp.messages.map((m) => m.envelopeTo[0]);
    expect(received.sort()).toEqual([...recipients].sort());
    const { rows } = await stack.api.db.query(
      `SELECT count(*)::int AS n FROM message_events WHERE type = 'sending'`,
    );
    expect(rows[0].n).toBe(recipients.length);
  }, 150_000);
});
