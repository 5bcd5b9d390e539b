import { getQueueToken } from '@nestjs/bull';
import type { Job, Queue } from 'bull';
import { AttemptJobId, WEBHOOK_QUEUE } from '../src/modules/webhooks/webhook.jobs';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import {
  startWebhookReceiver,
  subscribeWebhook,
  verifyWebhook,
  WebhookReceiver,
} from './support/webhook-receiver';

const CONCURRENCY = 2;
/** What AttemptRunner holds at most: a slot each, and 5 waiting per slot. */
const HELD = CONCURRENCY * (1 + 5);

/**
 * The dispatching worker makes the first attempts itself (AttemptRunner),
 * with no Bull job each; Bull carries the retries, the sweeper's finds and
 * what does not fit in the runner. Bull jobs are observed as this app's
 * consumer takes them (its `active` events), since done jobs leave Redis.
 */
describe('first webhook attempts made by the dispatching worker', () => {
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await smtp.close();
  });

  /** An app (API and worker), and the Bull jobs its webhook consumer takes, in order. */
  async function start(env: Record<string, string>) {
    const t = await createTestApp({
      SMTP_URL: smtp.url,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_CONCURRENCY: String(CONCURRENCY),
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      WEBHOOK_RETRY_SCHEDULE: '300ms',
      SWEEP_INTERVAL_MS: '250',
      ...env,
    });
    const queue: Queue = t.app.get(getQueueToken(WEBHOOK_QUEUE));
    const jobs: string[] = [];
    queue.on('active', (job: Job) => jobs.push(String(job.id)));
    return { t, queue, jobs };
  }

  /** A workspace of its own, so no other test's endpoint is told of its events. */
  async function workspace(t: TestApp): Promise<{ ws: Workspace; sender: Sender }> {
    const ws = await createWorkspace(t);
    return { ws, sender: await createSender(t, ws) };
  }

  async function send(ws: Workspace, sender: Sender, to: string[]): Promise<void> {
    await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to, subject: 'first', text: 'x' })
      .expect(202);
  }

  async function deliveryIds(t: TestApp, endpointId: string): Promise<string[]> {
    const { rows } = await t.db.query('SELECT id FROM webhook_deliveries WHERE endpoint_id = $1', [
      endpointId,
    ]);
    return rows.map((row) => row.id);
  }

  async function statuses(t: TestApp, endpointId: string): Promise<Record<string, number>> {
    const { rows } = await t.db.query(
      `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 GROUP BY status`,
      [endpointId],
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  /** Jobs waiting, active or delayed in the webhook queue. */
  async function queued(queue: Queue): Promise<number> {
    const counts = await queue.getJobCounts();
    return counts.waiting + counts.active + counts.delayed;
  }

  describe('with a sweeper that waits long', () => {
    let app: Awaited<ReturnType<typeof start>>;

    // Local first attempts may wait their turn for seconds here; the sweeper must not queue them meanwhile.
    beforeAll(async () => {
      app = await start({ SWEEP_GRACE_MS: '60000' });
    });
    afterAll(async () => {
      await app.t.close();
    });

    it('posts first attempts with no Bull job; a failed first attempt is retried by a Bull job', async () => {
      const { t, queue, jobs } = app;
      const { ws, sender } = await workspace(t);
      const hook = await subscribeWebhook(ws, receiver.url('/direct'));
      const flaky = await subscribeWebhook(ws, receiver.url('/direct-flaky'));
      receiver.answer('/direct-flaky', (n) => ({ status: n === 0 ? 503 : 204 }));
      await send(
        ws,
        sender,
        Array.from({ length: 5 }, (_, i) => `direct${i}@example.test`),
      );
      await eventually(async () => (await statuses(t, hook.id)).succeeded === 5, {
        what: 'the first attempts of 5 deliveries to succeed',
      });
      await eventually(async () => (await statuses(t, flaky.id)).succeeded === 5, {
        what: 'the flaky endpoint to get all 5, one of them on its retry',
      });

      const direct = receiver.at('/direct');
      expect(direct).toHaveLength(5);
      for (const request of direct) verifyWebhook(request, hook.secret);
      expect(new Set(direct.map((r) => r.headers['webhook-id'])).size).toBe(5);

      // The only Bull job: the retry (attempt 2) of the delivery whose first attempt got a 503.
      const { rows } = await t.db.query(
        `SELECT delivery_id FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
          WHERE d.endpoint_id = $1 AND a.outcome = 'failure'`,
        [flaky.id],
      );
      expect(rows).toHaveLength(1);
      expect(jobs).toEqual([AttemptJobId.attempt(rows[0].delivery_id, 2)]);
      expect(await queued(queue)).toBe(0);
      const all = [...(await deliveryIds(t, hook.id)), ...(await deliveryIds(t, flaky.id))];
      expect(all).toHaveLength(10);
      expect(jobs.filter((id) => all.some((d) => id === AttemptJobId.attempt(d, 1)))).toEqual([]);
      expect(receiver.at('/direct-flaky')).toHaveLength(6);
    });

    it('holds at most its backlog; the overflow goes to Bull, each event posted once, never over the concurrency', async () => {
      const { t, queue, jobs } = app;
      const { ws, sender } = await workspace(t);
      const MESSAGES = 40;
      const DELAY_MS = 300;
      const hook = await subscribeWebhook(ws, receiver.url('/slow'));
      receiver.answer('/slow', () => ({ status: 200, delayMs: DELAY_MS }));
      const before = jobs.length;
      await send(
        ws,
        sender,
        Array.from({ length: MESSAGES }, (_, i) => `slow${i}@example.test`),
      );
      await eventually(async () => (await statuses(t, hook.id)).succeeded === MESSAGES, {
        timeoutMs: 30000,
        what: `all ${MESSAGES} deliveries to succeed`,
      });

      const requests = receiver.at('/slow');
      for (const request of requests) verifyWebhook(request, hook.secret);
      const ids = requests.map((r) => String(r.headers['webhook-id']));
      expect(ids).toHaveLength(MESSAGES);
      expect(new Set(ids).size).toBe(MESSAGES);

      const ours = new Set((await deliveryIds(t, hook.id)).map((id) => AttemptJobId.attempt(id, 1)));
      const overflow = jobs.slice(before).filter((id) => ours.has(id));
      expect(jobs.slice(before)).toEqual(overflow);
      expect(overflow.length).toBeGreaterThan(0);
      // Overflow starts only once the runner holds all it may, so at least that many were made here.
      expect(MESSAGES - overflow.length).toBeGreaterThanOrEqual(HELD);
      expect(await queued(queue)).toBe(0);

      // Local and queued attempts together: never more than WEBHOOK_CONCURRENCY requests open at once.
      const open = (at: number) => requests.filter((r) => r.at <= at && at < r.at + DELAY_MS).length;
      expect(Math.max(...requests.map((r) => open(r.at)))).toBeLessThanOrEqual(CONCURRENCY);
      process.stdout.write(
        `first attempts: ${MESSAGES - overflow.length} made by the dispatching worker, ${overflow.length} through Bull\n`,
      );
    });
  });

  describe('with a sweeper that waits 1 s', () => {
    let app: Awaited<ReturnType<typeof start>>;

    beforeAll(async () => {
      app = await start({ SWEEP_GRACE_MS: '1000' });
    });
    afterAll(async () => {
      await app.t.close();
    });

    it('posts a delivery whose local first attempt was lost (pending, never attempted, no job) through the sweeper', async () => {
      const { t, jobs } = app;
      const { ws } = await workspace(t);
      const hook = await subscribeWebhook(ws, receiver.url('/lost'));
      // As the dispatcher commits it, when the process dies before its first attempt: the row, no job.
      const { rows } = await t.db.query(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload)
         VALUES ($1, 1, 'message.sent', '{"lost":"before its first attempt"}')
         RETURNING id, status, attempts, next_attempt_at, created_at`,
        [hook.id],
      );
      const [lost] = rows;
      // Due from its insert: the sweeper's predicate (pending, next_attempt_at older than the grace) finds it.
      expect(lost).toMatchObject({ status: 'pending', attempts: 0, next_attempt_at: lost.created_at });

      await eventually(async () => (await statuses(t, hook.id)).succeeded === 1, {
        what: 'the lost delivery to be swept and posted',
      });
      const [request] = receiver.at('/lost');
      expect(request.body).toBe('{"lost":"before its first attempt"}');
      verifyWebhook(request, hook.secret);
      expect(receiver.at('/lost')).toHaveLength(1);
      expect(jobs).toEqual([AttemptJobId.attempt(lost.id, 1)]);
      const posted = request.at - new Date(lost.created_at).getTime();
      expect(posted).toBeGreaterThanOrEqual(1000);
    });
  });
});
