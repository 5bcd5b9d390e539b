import { Client } from 'pg';
import {
  StrandedMessagesRepository,
  StrandedMessage,
} from '../src/modules/messages/stranded-messages.repository';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';

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
