import { Client } from 'pg';
import {
  createTestApp,
  createWorkspace,
  dropDatabase,
  newDatabaseUrl,
  TestApp,
  Workspace,
} from './support/app';
import { PgProxy, startPgProxy } from './support/pg-proxy';
import { createSender, Sender } from './support/sending';

/**
 * The database connection failing while sends are stored, through a proxy
 * between the app and PostgreSQL: an outage, or a cut right after the
 * batched insert committed (without a key, the insert statement alone; with
 * one, the COMMIT of the transaction that also completes the key), so the
 * app gets an error for work that is stored.
 */
describe('the database connection failing while sends are stored', () => {
  const databaseUrl = newDatabaseUrl('cut');
  let proxy: PgProxy;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  /** Straight to PostgreSQL, past the proxy (t.db goes through it). */
  let db: Client;

  beforeAll(async () => {
    proxy = await startPgProxy(databaseUrl);
    t = await createTestApp({ APP_ROLE: 'api', DATABASE_URL: proxy.url, AUTH_CACHE_TTL_MS: '60000' });
    t.db.on('error', () => undefined); // the outage test drops it
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    // Warm the caches, so the insert is the only INSERT of the next send without a key.
    await send('warm-up', 'warm').expect(202);
  });
  afterAll(async () => {
    await db.end();
    await t.close();
    await proxy.close();
    await dropDatabase(databaseUrl);
  });

  const recipients = (prefix: string) => [1, 2, 3].map((i) => `${prefix}${i}@example.test`);
  const send = (subject: string, prefix: string, key?: string) => {
    const req = ws.api('post', '/v1/emails');
    if (key) req.set('Idempotency-Key', key);
    return req.send({ from: sender.email, to: recipients(prefix), subject, text: 'x' });
  };
  const storedFor = async (prefix: string) =>
    (
      await db.query(`SELECT id, recipient FROM messages WHERE recipient LIKE $1 || '%' ORDER BY recipient`, [
        prefix,
      ])
    ).rows as { id: string; recipient: string }[];

  it.each([
    ['with an Idempotency-Key', 'keyed-', 'key-1'],
    ['without one', 'plain-', undefined],
  ])(
    'a batch insert that commits but reports an error, %s: answers 202 with the stored messages, one per recipient, no duplicates',
    async (_, prefix, key) => {
      const cutsBefore = proxy.cuts();
      proxy.cutAfterCommit(key ? /^COMMIT/ : /^INSERT/);
      const res = await send(`unseen ${prefix}`, prefix, key).expect(202);
      expect(proxy.cuts()).toBe(cutsBefore + 1);

      const stored = await storedFor(prefix);
      expect(stored.map((m) => m.recipient)).toEqual(recipients(prefix));
      expect(res.body.data.messages.map((m: { uuid: string }) => m.uuid).sort()).toEqual(
        stored.map((m) => m.id).sort(),
      );
      const requests = await db.query(`SELECT count(*)::int AS n FROM email_requests WHERE subject = $1`, [
        `unseen ${prefix}`,
      ]);
      expect(requests.rows[0].n).toBe(1);
      const events = await db.query(
        `SELECT count(*)::int AS n FROM message_events WHERE message_id = ANY($1)`,
        [stored.map((m) => m.id)],
      );
      expect(events.rows[0].n).toBe(3);

      if (key) {
        const { rows } = await db.query(`SELECT status, response FROM idempotency_keys WHERE key = $1`, [
          key,
        ]);
        expect(rows).toEqual([{ status: 'done', response: res.body.data }]);
        const replay = await send(`unseen ${prefix}`, prefix, key).expect(202);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.body).toEqual(res.body);
        expect(await storedFor(prefix)).toHaveLength(3);
      }
    },
  );

  it('while PostgreSQL cannot be reached, every send of a batch answers 503 with Retry-After, and works again after', async () => {
    proxy.down();
    try {
      const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => send(`outage ${i}`, `outage${i}-`)));
      for (const res of answers) {
        expect(res.status).toBe(503);
        expect(res.body).toEqual({ error: 'service_unavailable', message: expect.any(String) });
        expect(res.headers['retry-after']).toBeDefined();
      }
    } finally {
      proxy.up();
    }
    await send('after outage', 'after-').expect(202);
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM email_requests WHERE subject LIKE 'outage %'`,
    );
    expect(rows[0].n).toBe(0);
  });
});
