import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DELIVERY_QUEUE, DeliveryJobId, SendJobData } from '../src/modules/delivery/delivery.jobs';
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
    // The 20 were one job; those it had not started are queued again, one job each.
    const { rows: left } = await stack.api.db.query(`SELECT id FROM messages WHERE status = 'pending'`);
    const queue = stack.api.app.get<Queue<SendJobData>>(getQueueToken(DELIVERY_QUEUE));
    expect(left.length).toBeGreaterThan(0);
    for (const { id } of left) expect(await queue.getJob(DeliveryJobId.first(id))).not.toBeNull();

    smtp.setDelay(0);
    await stack.startWorker({ DELIVERY_CONCURRENCY: '4' });
    await eventually(async () => (await stack.statuses()).sent === 20, {
      what: 'all 20 sent by the next worker',
    });
    expect(smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([...recipients].sort());
  });
});
