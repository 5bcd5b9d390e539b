import { eventually } from './support/app';
import { startWorkerStack, WorkerStack } from './support/worker-stack';

describe('a worker killed mid-delivery', () => {
  let stack: WorkerStack;
  const CONCURRENCY = 20;
  const LEASE_MS = 3000;
  const SWEEP_INTERVAL_MS = 500;
  /** A correctness bound, not a speed goal: the lease, a sweep, and generous slack for a shared CPU. */
  const RECOVERY_BOUND_MS = LEASE_MS + SWEEP_INTERVAL_MS + 20000;
  const env = {
    DELIVERY_CONCURRENCY: String(CONCURRENCY),
    DELIVERY_LEASE_MS: String(LEASE_MS),
    SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
    SWEEP_GRACE_MS: '1000',
  };

  beforeAll(async () => {
    stack = await startWorkerStack();
  });
  afterAll(() => stack.close());

  it('retries its messages within about a lease of a new worker starting; all 300 end sent, duplicates bounded by what was in flight', async () => {
    const { smtp } = stack;
    const recipients = Array.from({ length: 300 }, (_, i) => `k${i}@example.test`);
    await stack.send(recipients, 'crash');
    smtp.setDelay(500);
    const first = await stack.startWorker(env);
    await eventually(async () => smtp.messages.length >= 60, { what: 'some deliveries before the kill' });
    await first.kill('SIGKILL');
    const held = await stack.api.db.query(`SELECT id FROM messages WHERE status = 'sending'`);
    const inFlight = held.rows.length;
    expect(inFlight).toBeGreaterThan(0);
    expect(inFlight).toBeLessThanOrEqual(CONCURRENCY);

    smtp.setDelay(0);
    await stack.startWorker(env);
    const restartedAt = Date.now();
    await eventually(
      async () => {
        const { rows } = await stack.api.db.query(
          `SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND status = 'sent'`,
          [held.rows.map((r) => r.id)],
        );
        return rows[0].n === inFlight;
      },
      { timeoutMs: RECOVERY_BOUND_MS, what: `the ${inFlight} messages the killed worker held, sent` },
    );
    process.stdout.write(
      `worker SIGKILL: held messages sent ${Date.now() - restartedAt} ms after the restart\n`,
    );
    await eventually(async () => (await stack.statuses()).sent === 300, {
      timeoutMs: 45000,
      what: 'all 300 messages sent after the restart',
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}; statuses ${JSON.stringify(await stack.statuses())}`);
    });
    expect(await stack.statuses()).toEqual({ sent: 300 });

    const received = smtp.messages.map((m) => m.envelopeTo[0]);
    expect(new Set(received)).toEqual(new Set(recipients));
    const duplicates = received.length - new Set(received).size;
    process.stdout.write(
      `worker SIGKILL: ${inFlight} in flight at the kill, ${duplicates} duplicate(s) received\n`,
    );
    expect(duplicates).toBeLessThanOrEqual(inFlight);

    const { rows } = await stack.api.db.query(
      `SELECT count(*)::int AS n FROM message_events WHERE type = 'sending' AND (detail->>'recovered')::boolean`,
    );
    expect(rows[0].n).toBe(inFlight);
  });
});
