import { eventually } from './support/app';
import { startWorkerStack, WorkerStack } from './support/worker-stack';

describe('two worker processes on one queue', () => {
  let stack: WorkerStack;

  beforeAll(async () => {
    stack = await startWorkerStack();
  });
  afterAll(() => stack.close());

  it('delivers 500 messages, each exactly once', async () => {
    await Promise.all([
      stack.startWorker({ DELIVERY_CONCURRENCY: '10' }),
      stack.startWorker({ DELIVERY_CONCURRENCY: '10' }),
    ]);
    const recipients = Array.from({ length: 500 }, (_, i) => `w${i}@example.test`);
    await stack.send(recipients, 'two workers');

    await stack.smtp.waitFor(500, 60000);
    await eventually(async () => (await stack.statuses()).sent === 500, {
      timeoutMs: 30000,
      what: '500 sent',
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const received = stack.smtp.messages.map((m) => m.envelopeTo.join(','));
    expect(received).toHaveLength(500);
    expect([...received].sort()).toEqual([...recipients].sort());
    const { rows } = await stack.api.db.query(
      `SELECT count(*)::int AS n FROM message_events WHERE type = 'sending'`,
    );
    expect(rows[0].n).toBe(500);
  });
});
