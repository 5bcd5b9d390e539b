import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Client } from 'pg';
import {
  DELIVERY_QUEUE,
  DeliveryJobId,
  messagesOf,
  SendJobData,
} from '../src/modules/delivery/delivery.jobs';
import {
  StrandedMessagesRepository,
  StrandedMessage,
} from '../src/modules/messages/stranded-messages.repository';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender, settledMessage } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

describe('the sweeper’s reads', () => {
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let stranded: StrandedMessagesRepository;

  beforeAll(async () => {
    // API only: nothing consumes or sweeps, so accepted messages stay pending.
    t = await createTestApp({ APP_ROLE: 'api' });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    stranded = t.app.get(StrandedMessagesRepository);
  });
  afterAll(() => t.close());

  const sweep = async (batchSize: number) => {
    const batches: StrandedMessage[][] = [];
    const swept = await stranded.sweep(0, batchSize, async (batch) => void batches.push(batch));
    return { swept, batches };
  };

  it('reads every stranded message once, batch after batch while batches come back full', async () => {
    const res = await ws
      .api('post', '/v1/emails')
      .send({
        from: sender.email,
        to: ['s1@x.test', 's2@x.test', 's3@x.test', 's4@x.test', 's5@x.test'],
        subject: 's',
        text: 'x',
      })
      .expect(202);
    await t.db.query(
      `UPDATE messages SET status = 'deferred', attempts = 1, next_attempt_at = now() - interval '1 minute'
        WHERE recipient = 's5@x.test'`,
    );
    await t.db.query(
      `UPDATE messages SET status = 'sending', attempts = 1, lease_until = now() - interval '1 second'
        WHERE recipient = 's4@x.test'`,
    );

    const { swept, batches } = await sweep(2);
    expect(swept).toBe(true);
    expect(batches.map((b) => b.length)).toEqual([1, 2, 1, 1]);
    const seen = batches.flat();
    expect(seen.map((m) => m.id).sort()).toEqual(
      res.body.data.messages.map((m: { uuid: string }) => m.uuid).sort(),
    );
    const count = (status: string) => seen.filter((m) => m.status === status).length;
    expect([count('sending'), count('pending'), count('deferred')]).toEqual([1, 3, 1]);
    expect(seen.find((m) => m.status === 'deferred')?.attempts).toBe(1);
  });

  it('leaves out messages within their grace, a live lease, or a retry not yet due', async () => {
    await t.db.query(`UPDATE messages SET status = 'sent'`);
    await ws
      .api('post', '/v1/emails')
      .send({
        from: sender.email,
        to: ['fresh@x.test', 'held@x.test', 'later@x.test'],
        subject: 's',
        text: 'x',
      })
      .expect(202);
    await t.db.query(
      `UPDATE messages SET status = 'sending', attempts = 1, lease_until = now() + interval '1 minute'
        WHERE recipient = 'held@x.test'`,
    );
    await t.db.query(
      `UPDATE messages SET status = 'deferred', attempts = 1, next_attempt_at = now() + interval '1 minute'
        WHERE recipient = 'later@x.test'`,
    );
    const batches: StrandedMessage[][] = [];
    expect(await stranded.sweep(60_000, 10, async (batch) => void batches.push(batch))).toBe(true);
    expect(batches).toEqual([]);
  });

  it('lets one sweeper run at a time: another process holding the sweep lock makes it skip its turn', async () => {
    await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: ['locked@x.test'], subject: 's', text: 'x' })
      .expect(202);
    const other = new Client({ connectionString: t.config.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT pg_advisory_xact_lock(hashtext('leadpush.delivery.sweep'))`);
      expect(await sweep(10)).toEqual({ swept: false, batches: [] });
      await other.query('COMMIT');
      const after = await sweep(10);
      expect(after.swept).toBe(true);
      expect(after.batches.flat().some((m) => m.status === 'pending')).toBe(true);
    } finally {
      await other.end();
    }
  });
});

describe('the sweeper and the first jobs of requests', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let queue: Queue<SendJobData>;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ SMTP_URL: smtp.url, SWEEP_INTERVAL_MS: '200', SWEEP_GRACE_MS: '300' });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    queue = t.app.get(getQueueToken(DELIVERY_QUEUE));
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const send = async (to: string[]) => {
    const res = await ws.api('post', '/v1/emails').send({ from: sender.email, to, subject: 's', text: 'x' });
    expect(res.status).toBe(202);
    const uuids: string[] = res.body.data.messages.map((m: { uuid: string }) => m.uuid);
    const { rows } = await t.db.query(`SELECT DISTINCT request_id FROM messages WHERE id = ANY($1)`, [uuids]);
    expect(rows).toHaveLength(1);
    return { uuids, job: DeliveryJobId.request(rows[0].request_id) };
  };

  it("queues a request's messages as one job, and sweeps only those whose request has no job left", async () => {
    // Paused in Redis: the worker takes no job, the sweeper still runs.
    await queue.pause();
    const kept = await send(['kept1@x.test', 'kept2@x.test']);
    const lost = await send(['lost1@x.test', 'lost2@x.test']);
    for (const { uuids, job } of [kept, lost]) {
      const queued = await eventually(() => queue.getJob(job), { what: `job ${job}` });
      expect(messagesOf(queued.data).sort()).toEqual([...uuids].sort());
    }
    await (await queue.getJob(lost.job))!.remove();

    // Past their grace, all four are swept: the two whose request job is gone get their own.
    await eventually(
      async () => (await Promise.all(lost.uuids.map((id) => queue.getJob(id)))).every(Boolean),
      {
        what: 'jobs for the messages whose request job is gone',
      },
    );
    for (const id of kept.uuids) expect(await queue.getJob(DeliveryJobId.first(id))).toBeNull();
    expect(await queue.getJob(kept.job)).not.toBeNull();

    await queue.resume();
    for (const id of [...kept.uuids, ...lost.uuids]) await settledMessage(ws, id, 'sent');
    expect(smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([
      'kept1@x.test',
      'kept2@x.test',
      'lost1@x.test',
      'lost2@x.test',
    ]);
  });
});
