import { randomUUID } from 'node:crypto';
import type { Pool, QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { Sql } from '../src/database/sql';
import { CLAIM, MOVE, RENEW } from '../src/modules/messages/lifecycle-writes';
import { MessageEventFeed } from '../src/modules/messages/message-event-feed';
import { MessageLifecycle } from '../src/modules/messages/message-lifecycle';
import type { MessageEventType } from '../src/modules/messages/message-status';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, Sender, sendToMany } from './support/sending';

/**
 * Concurrent claims, renewals and attempt endings on a real database: they
 * are written by few statements (counted as the app's pool sends them),
 * and each caller still gets its own answer.
 */
describe('the lifecycle written by group commit', () => {
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let lifecycle: MessageLifecycle;
  let sent: jest.SpyInstance;
  const recorded = new Map<MessageEventType, number>();

  beforeAll(async () => {
    // API only: nothing delivers, so the tests alone move the messages.
    t = await createTestApp({ APP_ROLE: 'api' });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    lifecycle = t.app.get(MessageLifecycle);
    t.app
      .get(MessageEventFeed)
      .subscribe((type, count) => recorded.set(type, (recorded.get(type) ?? 0) + count));
    const pool = (t.app.get(DataSource).driver as PostgresDriver).master as Pool;
    sent = jest.spyOn(pool, 'query');
  });
  afterAll(async () => {
    sent.mockRestore();
    await t.close();
  });

  /** Forgets the statements sent and the events recorded so far: what follows is the test's own. */
  const watch = () => {
    sent.mockClear();
    recorded.clear();
  };
  /** How many times the app's pool was sent that statement. */
  const statements = (text: string) =>
    sent.mock.calls.filter(([query]) => (query as QueryConfig | undefined)?.text === text).length;

  const newMessages = (count: number) => sendToMany(ws, sender, count, 'Batch');
  const state = async (id: string) => {
    const { rows } = await t.db.query(
      `SELECT status, attempts, next_attempt_at, lease_until > now() AS leased,
              (SELECT array_agg(type ORDER BY id) FROM message_events WHERE message_id = m.id) AS events
         FROM messages m WHERE id = $1`,
      [id],
    );
    return rows[0] as {
      status: string;
      attempts: number;
      next_attempt_at: Date | null;
      leased: boolean | null;
      events: string[];
    };
  };
  /** Puts a message in a status; `lease` and `next` are SQL for its lease_until and next_attempt_at. */
  const put = (id: string, status: string, attempts: number, { lease = 'NULL', next = 'NULL' } = {}) =>
    t.db.query(
      `UPDATE messages SET status = $2, attempts = $3, lease_until = ${lease}, next_attempt_at = ${next}
        WHERE id = $1`,
      [id, status, attempts],
    );

  it('claims 50 messages claimed at once with one statement, each for its own caller', async () => {
    const ids = await newMessages(50);
    watch();
    const claims = await Promise.all(ids.map((id) => lifecycle.claim(id, 60_000, 3)));
    expect(statements(CLAIM)).toBe(1);
    claims.forEach((claim, i) =>
      expect(claim).toMatchObject({
        kind: 'claimed',
        event: { type: 'sending', detail: { attempt: 1 } },
        message: { messageId: ids[i], attempt: 1, recipient: `batch${i}@example.test`, subject: 'Batch' },
      }),
    );
    for (const id of ids) {
      expect(await state(id)).toMatchObject({ status: 'sending', attempts: 1, leased: true });
      expect((await state(id)).events).toEqual(['pending', 'sending']);
    }
    expect(recorded.get('sending')).toBe(50);
  });

  it('answers each claim of a mixed batch for its own message: claimed, recovered, abandoned or null', async () => {
    const [pending, leased, notDue, due, expired, lastExpired, done] = await newMessages(7);
    await put(leased, 'sending', 1, { lease: `now() + interval '1 hour'` });
    await put(notDue, 'deferred', 1, { next: `now() + interval '1 hour'` });
    await put(due, 'deferred', 1, { next: 'now()' });
    await put(expired, 'sending', 1, { lease: `now() - interval '1 second'` });
    await put(lastExpired, 'sending', 3, { lease: `now() - interval '1 second'` });
    await put(done, 'sent', 1);

    const ids = [pending, leased, notDue, due, expired, lastExpired, done, randomUUID(), pending];
    watch();
    const claims = await Promise.all(ids.map((id) => lifecycle.claim(id, 60_000, 3)));
    // The second claim of `pending` waits for a flush of its own.
    expect(statements(CLAIM)).toBe(2);
    expect(claims).toEqual([
      expect.objectContaining({ kind: 'claimed', message: expect.objectContaining({ messageId: pending }) }),
      null,
      null,
      expect.objectContaining({
        kind: 'claimed',
        event: expect.objectContaining({ detail: { attempt: 2 } }),
        message: expect.objectContaining({ messageId: due, attempt: 2 }),
      }),
      expect.objectContaining({
        kind: 'claimed',
        event: expect.objectContaining({ detail: { attempt: 2, recovered: true } }),
        message: expect.objectContaining({ messageId: expired, attempt: 2 }),
      }),
      { kind: 'abandoned', event: expect.objectContaining({ type: 'failed', detail: expect.any(Object) }) },
      null,
      null,
      null,
    ]);
    expect(await state(pending)).toMatchObject({
      status: 'sending',
      attempts: 1,
      events: ['pending', 'sending'],
    });
    expect(await state(leased)).toMatchObject({ status: 'sending', attempts: 1, events: ['pending'] });
    expect(await state(notDue)).toMatchObject({ status: 'deferred', attempts: 1, events: ['pending'] });
    expect(await state(due)).toMatchObject({ status: 'sending', attempts: 2, next_attempt_at: null });
    expect(await state(expired)).toMatchObject({ status: 'sending', attempts: 2, leased: true });
    expect(await state(lastExpired)).toMatchObject({ status: 'failed', events: ['pending', 'failed'] });
    expect(await state(done)).toMatchObject({ status: 'sent', events: ['pending'] });
    expect(Object.fromEntries(recorded)).toEqual({ sending: 3, failed: 1 });
  });

  it('ends 50 attempts at once with one statement; a wrong attempt or status answers null for that message only', async () => {
    const ids = await newMessages(50);
    for (const id of ids) await put(id, 'sending', 2);
    await put(ids[48], 'sent', 2);
    const next = new Date(Date.now() + 3_600_000);
    const detail = (i: number) => ({ attempt: 2, note: `message ${i}` });
    watch();
    const ends = await Promise.all(
      ids.map((id, i) => {
        const attempt = { messageId: id, attempt: i === 49 ? 1 : 2 };
        switch (i % 5) {
          case 0:
            return lifecycle.markSent(attempt, detail(i));
          case 1:
            return lifecycle.defer(attempt, detail(i), next);
          case 2:
            return lifecycle.fail(attempt, detail(i));
          case 3:
            return lifecycle.suppress(attempt, detail(i));
          default:
            return lifecycle.bounce(attempt, detail(i));
        }
      }),
    );
    expect(statements(MOVE)).toBe(1);
    const entered = ['sent', 'deferred', 'failed', 'suppressed', 'bounced'];
    for (const [i, id] of ids.entries()) {
      if (i >= 48) {
        expect({ i, end: ends[i] }).toEqual({ i, end: null });
        expect((await state(id)).status).toBe(i === 48 ? 'sent' : 'sending');
        continue;
      }
      expect(ends[i]).toEqual({ type: entered[i % 5], at: expect.any(Date), detail: detail(i) });
      expect(await state(id)).toMatchObject({
        status: entered[i % 5],
        attempts: 2,
        leased: null,
        next_attempt_at: i % 5 === 1 ? next : null,
        events: ['pending', entered[i % 5]],
      });
    }
    expect(Object.fromEntries(recorded)).toEqual({
      sent: 10,
      deferred: 10,
      failed: 10,
      suppressed: 9,
      bounced: 9,
    });
  });

  it('fails only the move whose value the database refuses, and writes the others', async () => {
    const ids = await newMessages(8);
    for (const id of ids) await put(id, 'sending', 1);
    watch();
    const ends = await Promise.allSettled(
      ids.map((id, i) =>
        lifecycle.markSent(
          { messageId: id, attempt: 1 },
          { attempt: 1, reply: i === 5 ? 'nul \u0000' : 'ok' },
        ),
      ),
    );
    expect(ends[5]).toMatchObject({ status: 'rejected', reason: { code: '22P05' } });
    for (const [i, id] of ids.entries()) {
      if (i === 5) continue;
      expect(ends[i]).toMatchObject({ status: 'fulfilled', value: { type: 'sent' } });
      expect((await state(id)).status).toBe('sent');
    }
    expect((await state(ids[5])).status).toBe('sending');
  });

  it('renews the leases of many attempts with one statement, of the attempts that hold them only', async () => {
    const ids = await newMessages(20);
    for (const id of ids) await put(id, 'sending', 1, { lease: `now() + interval '1 second'` });
    await put(ids[19], 'sent', 1);
    watch();
    const renewed = await Promise.all(
      ids.map((id, i) => lifecycle.renewLease({ messageId: id, attempt: i === 18 ? 2 : 1 }, 3_600_000)),
    );
    expect(statements(RENEW)).toBe(1);
    expect(renewed).toEqual(ids.map((_, i) => i < 18));
    const { rows } = await t.db.query(
      `SELECT id, lease_until > now() + interval '1 minute' AS renewed FROM messages WHERE id = ANY($1)`,
      [ids],
    );
    const byId = new Map(rows.map((row: { id: string; renewed: boolean | null }) => [row.id, row.renewed]));
    expect(ids.map((id) => byId.get(id))).toEqual(
      ids.map((_, i) => (i < 18 ? true : i === 18 ? false : null)),
    );
  });

  it('moves on the transaction it is given, alone', async () => {
    const [id] = await newMessages(1);
    await put(id, 'failed', 3);
    const rolledBack = new Error('rolled back');
    await expect(
      t.app.get(Sql).transaction(async (tx) => {
        expect(await lifecycle.retry(ws.workspaceId, id, tx)).toMatchObject({ type: 'pending' });
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect(await state(id)).toMatchObject({ status: 'failed', attempts: 3, events: ['pending'] });
  });
});
