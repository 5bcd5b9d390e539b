import { eventually } from './support/app';
import { startWorkerStack, WorkerStack } from './support/worker-stack';

describe('graceful shutdown of a worker (SIGTERM)', () => {
  let stack: WorkerStack;

  beforeAll(async () => {
    stack = await startWorkerStack();
  });
  afterAll(() => stack.close());

  it('finishes in-flight deliveries, takes no new job, exits 0; the rest is delivered by the next worker', async () => {
    const { smtp } = stack;
    const recipients = Array.from({ length: 20 }, (_, i) => `t${i}@example.test`);
    await stack.send(recipients, 'shutdown');

    smtp.setDelay(1500);
    const worker = await stack.startWorker({ DELIVERY_CONCURRENCY: '4' });
    await eventually(async () => (await stack.statuses()).sending === 4, { what: '4 deliveries in flight' });
    expect(await worker.kill('SIGTERM')).toBe(0);

    const afterStop = await stack.statuses();
    expect(afterStop.sending ?? 0).toBe(0);
    expect(afterStop.sent).toBeGreaterThanOrEqual(4);
    expect(afterStop.sent + (afterStop.pending ?? 0)).toBe(20);
    expect(smtp.messages).toHaveLength(afterStop.sent);

    smtp.setDelay(0);
    await stack.startWorker({ DELIVERY_CONCURRENCY: '4' });
    await eventually(async () => (await stack.statuses()).sent === 20, {
      what: 'all 20 sent by the next worker',
    });
    expect(smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([...recipients].sort());
  });
});
