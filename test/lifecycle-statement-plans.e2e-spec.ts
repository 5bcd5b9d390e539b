import { Client } from 'pg';
import { SqlRunner } from '../src/database/sql';
import { LifecycleWrites } from '../src/modules/messages/lifecycle-writes';
import { TRANSITIONS } from '../src/modules/messages/message-status';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, Sender, sendToMany } from './support/sending';

interface Scans {
  seq: number;
  index: number;
}

/**
 * Delivery's claims, renewals and transitions on one connection of their
 * own, first while `messages` holds a handful of rows, then after it has
 * grown with no ANALYZE since (as on a new install, or with autovacuum off).
 * PostgreSQL's own counters tell how each run read the table.
 */
describe('the lifecycle statements on a table that has grown since they first ran', () => {
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let connection: Client;
  let writes: LifecycleWrites;

  beforeAll(async () => {
    t = await createTestApp({ APP_ROLE: 'api' });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    connection = new Client({ connectionString: t.config.databaseUrl });
    await connection.connect();
    writes = new LifecycleWrites(new SqlRunner(connection));
  });
  afterAll(async () => {
    await connection?.end();
    await t?.close();
  });

  const newMessages = (count: number) => sendToMany(ws, sender, count, 'Grown');

  /** One delivery attempt's statements, as the worker makes them: claim, renew, mark sent. */
  const deliver = async (messageId: string) => {
    const claim = await writes.claim({ messageId, leaseMs: 60_000, maxAttempts: 3 });
    expect(claim).toMatchObject({ kind: 'claimed', message: { messageId, attempt: 1 } });
    expect(await writes.renew({ messageId, attempt: 1, leaseMs: 60_000 })).toBe(true);
    const moved = await writes.move({
      messageId,
      to: 'sent',
      from: TRANSITIONS.markSent.from,
      attempt: 1,
      workspaceId: null,
      nextAttemptAt: null,
      restart: false,
      detail: { attempt: 1 },
    });
    expect(moved?.event.type).toBe('sent');
  };

  /**
   * How often `messages` was read by sequential and by index scans, once
   * both connections have flushed their counters (a backend flushes them
   * when idle, forced here, rather than after each statement).
   */
  const scans = async (): Promise<Scans> => {
    for (const client of [connection, t.db]) {
      await client.query('SELECT pg_stat_force_next_flush()');
      await client.query('SELECT 1');
    }
    await t.db.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await t.db.query(
      `SELECT seq_scan::int AS seq, idx_scan::int AS index FROM pg_stat_user_tables WHERE relname = 'messages'`,
    );
    return rows[0] as Scans;
  };

  it('find their messages by index, not by reading the whole table', async () => {
    const [first, ...rest] = await newMessages(12);
    const later = rest.splice(8);
    // More runs than PostgreSQL plans for their parameters before it may settle on one plan for all.
    for (const id of rest) await deliver(id);

    await t.db.query(
      `INSERT INTO messages
       SELECT (jsonb_populate_record(m, jsonb_build_object('id', gen_random_uuid(), 'status', 'sent'))).*
         FROM messages m, generate_series(1, 20000)
        WHERE m.id = $1`,
      [first],
    );
    const before = await scans();
    for (const id of later) await deliver(id);
    const after = await scans();

    expect(after.index).toBeGreaterThan(before.index);
    expect(after.seq - before.seq).toBe(0);
  });
});
