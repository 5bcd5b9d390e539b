import type request from 'supertest';
import { Sql } from '../src/database/sql';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';
import { lockTable, TableLock } from './support/table-lock';

/** Flushes the app runs at once (EmailsService's group commit). */
const CONCURRENT_FLUSHES = 4;

interface Tenant {
  ws: Workspace;
  sender: Sender;
}

async function createTenant(t: TestApp): Promise<Tenant> {
  const ws = await createWorkspace(t);
  return { ws, sender: await createSender(t, ws) };
}

/** Starts a send now (supertest sends only once awaited) and resolves to its response. */
function send({ ws, sender }: Tenant, subject: string, key = subject): Promise<request.Response> {
  return ws
    .api('post', '/v1/emails')
    .set('Idempotency-Key', key)
    .send({
      from: sender.email,
      to: [`${subject}@example.test`, `copy-${subject}@example.test`],
      subject,
      text: 'x',
    })
    .then((res) => res);
}

/** Sends one request at a time until every flush of the app waits on the lock; answers those sends. */
async function occupyFlushes(
  t: TestApp,
  lock: TableLock,
  tenant: Tenant,
  prefix: string,
): Promise<Promise<request.Response>[]> {
  const sends: Promise<request.Response>[] = [];
  for (let i = 1; i <= CONCURRENT_FLUSHES; i++) {
    sends.push(send(tenant, `${prefix}-${i}`));
    await eventually(async () => (await lock.waiting()) >= i, { what: `${i} inserts waiting on the lock` });
  }
  return sends;
}

const keysInProgress = async (t: TestApp) =>
  (await t.db.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE status = 'in_progress'`)).rows[0]
    .n as number;

const storedSubjects = async (t: TestApp, subjects: string[]) =>
  (
    await t.db.query(
      `SELECT r.subject, count(m.id)::int AS messages FROM email_requests r JOIN messages m ON m.request_id = r.id
        WHERE r.subject = ANY($1) GROUP BY r.subject`,
      [subjects],
    )
  ).rows as { subject: string; messages: number }[];

describe('a batch with a request the database refuses', () => {
  let t: TestApp;
  let bad: Tenant;
  let others: Tenant[];

  beforeAll(async () => {
    t = await createTestApp({ APP_ROLE: 'api', AUTH_CACHE_TTL_MS: '60000' });
    bad = await createTenant(t);
    others = [];
    for (let i = 0; i < 5; i++) others.push(await createTenant(t));
    // Validation lets nothing through that the schema refuses, so this test's
    // own database refuses two subjects: one by a CHECK constraint (SQLSTATE
    // class 23), one by a trigger raising a data exception (class 22).
    await t.db.query(
      `ALTER TABLE email_requests ADD CONSTRAINT test_refused CHECK (subject <> 'refused-check')`,
    );
    await t.db.query(`
      CREATE FUNCTION test_refuse_subject() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.subject = 'refused-data' THEN
          RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'string_data_right_truncation';
        END IF;
        RETURN NEW;
      END $$`);
    await t.db.query(
      `CREATE TRIGGER test_refuse_subject BEFORE INSERT ON email_requests FOR EACH ROW EXECUTE FUNCTION test_refuse_subject()`,
    );
  });
  afterAll(() => t.close());

  it('fails only the refused requests (422); 20 concurrent sends of other workspaces in the same batch succeed', async () => {
    const lock = await lockTable(t, 'email_requests');
    try {
      const first = await occupyFlushes(t, lock, others[0], 'occupy');
      // Everything sent now waits in the queue and is flushed as one batch once the lock goes.
      const good = others.flatMap((tenant, i) =>
        Array.from({ length: 4 }, (_, j) => send(tenant, `good-${i}-${j}`)),
      );
      const refused = [send(bad, 'refused-check'), send(bad, 'refused-data')];
      await eventually(async () => (await keysInProgress(t)) === CONCURRENT_FLUSHES + 22, {
        what: 'every request waiting',
      });
      await lock.release();

      for (const res of await Promise.all([...first, ...good])) {
        expect(res.status).toBe(202);
        expect(res.body.data.message_count).toBe(2);
      }
      for (const res of await Promise.all(refused)) {
        expect(res.status).toBe(422);
        expect(res.body).toEqual({
          error: 'validation_failed',
          message: expect.any(String),
          errors: [{ field: 'body', message: expect.any(String) }],
        });
        expect(JSON.stringify(res.body)).not.toMatch(/refused|constraint|test_|violat|right_truncation/);
      }

      const goodSubjects = others.flatMap((_, i) => [0, 1, 2, 3].map((j) => `good-${i}-${j}`));
      const stored = await storedSubjects(t, [...goodSubjects, 'refused-check', 'refused-data']);
      expect(stored.map((s) => s.subject).sort()).toEqual([...goodSubjects].sort());
      expect(stored.every((s) => s.messages === 2)).toBe(true);
      const keys = await t.db.query(
        `SELECT key, status FROM idempotency_keys WHERE key = ANY($1) ORDER BY key`,
        [[...goodSubjects, 'refused-check', 'refused-data']],
      );
      expect(keys.rows).toEqual([...goodSubjects].sort().map((key) => ({ key, status: 'done' })));
    } finally {
      await lock.release();
    }
  });

  it('a refused request sent alone is a 422 too, and its key can be used again', async () => {
    const res = await send(bad, 'refused-check', 'alone');
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('validation_failed');
    const retry = await bad.ws
      .api('post', '/v1/emails')
      .set('Idempotency-Key', 'alone')
      .send({ from: bad.sender.email, to: ['alone@example.test'], subject: 'fixed', text: 'x' });
    expect(retry.status).toBe(202);
  });
});

describe('a full send queue', () => {
  const LIMIT = 5;
  let t: TestApp;
  let tenant: Tenant;

  beforeAll(async () => {
    t = await createTestApp({ APP_ROLE: 'api', AUTH_CACHE_TTL_MS: '60000', SEND_QUEUE_LIMIT: String(LIMIT) });
    tenant = await createTenant(t);
  });
  afterAll(() => t.close());

  it('answers 503 service_unavailable with Retry-After beyond SEND_QUEUE_LIMIT, stores nothing of those, and frees their keys', async () => {
    const lock = await lockTable(t, 'email_requests');
    try {
      const first = await occupyFlushes(t, lock, tenant, 'inflight');
      const subjects = Array.from({ length: LIMIT + 10 }, (_, i) => `queued-${i}`);
      const sends = subjects.map((subject) => send(tenant, subject));
      // The requests over the bound are answered at once, while the lock still holds.
      const answered: request.Response[] = [];
      for (const p of sends) void p.then((res) => answered.push(res));
      await eventually(async () => answered.length >= 10, { what: 'the requests over the bound answered' });
      const refusedNow = [...answered];
      expect(refusedNow).toHaveLength(10);
      for (const res of refusedNow) {
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.body).toEqual({ error: 'service_unavailable', message: expect.any(String) });
      }
      await lock.release();

      const all = await Promise.all(sends);
      const accepted = subjects.filter((_, i) => all[i].status === 202);
      const refused = subjects.filter((_, i) => all[i].status === 503);
      expect(accepted).toHaveLength(LIMIT);
      expect(refused).toHaveLength(10);
      for (const res of await Promise.all(first)) expect(res.status).toBe(202);
      const stored = await storedSubjects(t, subjects);
      expect(stored.map((s) => s.subject).sort()).toEqual([...accepted].sort());
      const keys = await t.db.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = ANY($1)`, [
        refused,
      ]);
      expect(keys.rows[0].n).toBe(0);

      const retry = await send(tenant, refused[0]);
      expect(retry.status).toBe(202);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
    } finally {
      await lock.release();
    }
  });

  it('runs the app’s statements with a 30 s statement_timeout, so a stuck one cannot hold a pooled connection', async () => {
    const sql = t.app.get(Sql);
    expect(await sql.one('SHOW statement_timeout')).toEqual({ statement_timeout: '30s' });
  });
});
