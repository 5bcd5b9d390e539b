import { Sql } from '../src/database/sql';
import { MessageEventFeed } from '../src/modules/messages/message-event-feed';
import { MessageLifecycle, MessageEvent } from '../src/modules/messages/message-lifecycle';
import {
  MESSAGE_STATUSES,
  type MessageEventType,
  type MessageStatus,
  TRANSITIONS,
  type TransitionName,
} from '../src/modules/messages/message-status';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';

/** The lifecycle's transitions on a real database: each one's guard is its row of TRANSITIONS. */
describe('the message lifecycle', () => {
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let lifecycle: MessageLifecycle;

  beforeAll(async () => {
    // API only: nothing delivers, so the tests alone move the messages.
    t = await createTestApp({ APP_ROLE: 'api' });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    lifecycle = t.app.get(MessageLifecycle);
  });
  afterAll(() => t.close());

  const newMessage = async (to = 'life@example.test'): Promise<string> => {
    const res = await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: [to], subject: 'Life', text: 'x' })
      .expect(202);
    return res.body.data.messages[0].uuid;
  };
  const put = (id: string, status: MessageStatus, attempts = 1) =>
    t.db.query(`UPDATE messages SET status = $2, attempts = $3, lease_until = NULL WHERE id = $1`, [
      id,
      status,
      attempts,
    ]);
  const state = async (id: string) => {
    const { rows } = await t.db.query(
      `SELECT status, attempts, next_attempt_at FROM messages WHERE id = $1`,
      [id],
    );
    return rows[0] as { status: MessageStatus; attempts: number; next_attempt_at: Date | null };
  };
  const lastEvent = async (id: string) => {
    const { rows } = await t.db.query(
      `SELECT type, detail FROM message_events WHERE message_id = $1 ORDER BY id DESC LIMIT 1`,
      [id],
    );
    return rows[0] as { type: string; detail: Record<string, unknown> };
  };
  const isSuppressed = async (email: string) =>
    (
      await t.db.query(`SELECT 1 FROM suppressions WHERE workspace_id = $1 AND email = $2`, [
        ws.workspaceId,
        email,
      ])
    ).rowCount === 1;

  const detail = { attempt: 1, note: 'from the test' };
  const apply: Record<Exclude<TransitionName, 'claim'>, (id: string) => Promise<MessageEvent | null>> = {
    release: (id) => lifecycle.release(id),
    reschedule: (id) => lifecycle.reschedule(ws.workspaceId, id, new Date(Date.now() + 60_000)),
    cancel: (id) => lifecycle.cancel(ws.workspaceId, id),
    markSent: (id) => lifecycle.markSent({ messageId: id, attempt: 1 }, detail),
    defer: (id) => lifecycle.defer({ messageId: id, attempt: 1 }, detail, new Date(Date.now() + 60_000)),
    bounce: (id) => lifecycle.bounce({ messageId: id, attempt: 1 }, detail),
    reportBounce: (id) => lifecycle.reportBounce({ messageId: id, workspaceId: ws.workspaceId }, detail),
    fail: (id) => lifecycle.fail({ messageId: id, attempt: 1 }, detail),
    suppress: (id) => lifecycle.suppress({ messageId: id, attempt: 1 }, detail),
    complain: (id) => lifecycle.complain({ messageId: id }, detail),
    recordDelay: (id) => lifecycle.recordDelay({ messageId: id, workspaceId: ws.workspaceId }, detail),
    retry: (id) => lifecycle.retry(ws.workspaceId, id),
  };

  it.each(Object.keys(apply) as (keyof typeof apply)[])(
    '%s applies from its source statuses only, and records the event it answers',
    async (name) => {
      const id = await newMessage();
      const { from, to } = TRANSITIONS[name];
      for (const status of MESSAGE_STATUSES) {
        await put(id, status);
        const before = await lastEvent(id);
        const event = await apply[name](id);
        const after = await state(id);
        if ((from as readonly MessageStatus[]).includes(status)) {
          const type = to ?? 'delayed';
          expect({ status, event: event?.type }).toEqual({ status, event: type });
          expect(event!.at).toBeInstanceOf(Date);
          expect(await lastEvent(id)).toEqual({ type, detail: event!.detail });
          expect(after.status).toBe(to ?? status);
        } else {
          expect({ status, event }).toEqual({ status, event: null });
          expect(after.status).toBe(status);
          expect(await lastEvent(id)).toEqual(before);
        }
      }
    },
  );

  it('ends an attempt only while the attempt holds the message', async () => {
    const id = await newMessage();
    await put(id, 'sending', 2);
    expect(await lifecycle.markSent({ messageId: id, attempt: 1 }, detail)).toBeNull();
    expect(await lifecycle.bounce({ messageId: id, attempt: 1 }, detail, { suppress: true })).toBeNull();
    expect((await state(id)).status).toBe('sending');
    expect(await isSuppressed('life@example.test')).toBe(false);
    expect(await lifecycle.markSent({ messageId: id, attempt: 2 }, detail)).toMatchObject({ type: 'sent' });
    expect(await lifecycle.endedAs({ messageId: id, attempt: 2 }, 'sent')).toBe(true);
    expect(await lifecycle.endedAs({ messageId: id, attempt: 1 }, 'sent')).toBe(false);
  });

  it('acts for the workspace it is given only', async () => {
    const id = await newMessage();
    const other = await createWorkspace(t);
    await put(id, 'failed');
    expect(await lifecycle.retry(other.workspaceId, id)).toBeNull();
    await put(id, 'scheduled');
    expect(await lifecycle.cancel(other.workspaceId, id)).toBeNull();
    expect(await lifecycle.reschedule(other.workspaceId, id, new Date())).toBeNull();
    expect((await state(id)).status).toBe('scheduled');
    await put(id, 'sent');
    const elsewhere = { messageId: id, workspaceId: other.workspaceId };
    expect(await lifecycle.reportBounce(elsewhere, detail, { suppress: true })).toBeNull();
    expect(await lifecycle.complain(elsewhere, detail, { suppress: true })).toBeNull();
    expect(await lifecycle.recordDelay(elsewhere, detail)).toBeNull();
    expect((await state(id)).status).toBe('sent');
    expect(await isSuppressed('life@example.test')).toBe(false);
  });

  it('defers until a time, and a retry restarts the attempt count', async () => {
    const id = await newMessage();
    await put(id, 'sending', 3);
    const at = new Date(Date.now() + 60_000);
    await lifecycle.defer({ messageId: id, attempt: 3 }, detail, at);
    expect((await state(id)).next_attempt_at?.getTime()).toBe(at.getTime());
    await put(id, 'failed', 3);
    expect(await lifecycle.retry(ws.workspaceId, id)).toMatchObject({
      type: 'pending',
      detail: { retry: true },
    });
    expect(await state(id)).toEqual({ status: 'pending', attempts: 0, next_attempt_at: null });
  });

  it('bounces and suppresses in one transaction: neither without the other', async () => {
    const id = await newMessage('gone@example.test');
    await put(id, 'sending');
    await t.db.query(`
      CREATE FUNCTION refuse_suppression() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure of the suppression insert'; END $$`);
    await t.db.query(
      `CREATE TRIGGER refuse_suppression BEFORE INSERT ON suppressions FOR EACH ROW EXECUTE FUNCTION refuse_suppression()`,
    );
    try {
      await expect(
        lifecycle.bounce({ messageId: id, attempt: 1 }, detail, { suppress: true }),
      ).rejects.toThrow('injected failure');
      expect((await state(id)).status).toBe('sending');
      expect((await lastEvent(id)).type).not.toBe('bounced');
    } finally {
      await t.db.query(`DROP TRIGGER refuse_suppression ON suppressions`);
      await t.db.query(`DROP FUNCTION refuse_suppression`);
    }
    expect(await lifecycle.bounce({ messageId: id, attempt: 1 }, detail, { suppress: true })).toMatchObject({
      type: 'bounced',
    });
    expect((await state(id)).status).toBe('bounced');
    expect(await isSuppressed('gone@example.test')).toBe(true);
  });

  it('claims a message once, a deferred one when due, and takes over an expired lease as recovered', async () => {
    const id = await newMessage('claimed@example.test');
    const claim = await lifecycle.claim(id, 60_000, 3);
    expect(claim).toMatchObject({
      kind: 'claimed',
      event: { type: 'sending', detail: { attempt: 1 } },
      message: { messageId: id, attempt: 1, recipient: 'claimed@example.test', subject: 'Life', test: false },
    });
    expect(await lifecycle.claim(id, 60_000, 3)).toBeNull();

    await t.db.query(
      `UPDATE messages SET status = 'deferred', next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
      [id],
    );
    expect(await lifecycle.claim(id, 60_000, 3)).toBeNull();
    await t.db.query(`UPDATE messages SET next_attempt_at = now() WHERE id = $1`, [id]);
    expect(await lifecycle.claim(id, 60_000, 3)).toMatchObject({ kind: 'claimed', message: { attempt: 2 } });

    await t.db.query(`UPDATE messages SET lease_until = now() - interval '1 second' WHERE id = $1`, [id]);
    expect(await lifecycle.claim(id, 60_000, 3)).toMatchObject({
      kind: 'claimed',
      event: { detail: { attempt: 3, recovered: true } },
    });
    await t.db.query(`UPDATE messages SET lease_until = now() - interval '1 second' WHERE id = $1`, [id]);
    expect(await lifecycle.claim(id, 60_000, 3)).toMatchObject({
      kind: 'abandoned',
      event: { type: 'failed' },
    });
    expect((await state(id)).status).toBe('failed');
    for (const status of MESSAGE_STATUSES.filter((s) => !['pending', 'deferred', 'sending'].includes(s))) {
      await put(id, status);
      expect({ status, claim: await lifecycle.claim(id, 60_000, 3) }).toEqual({ status, claim: null });
    }
  });

  it('renews the lease of the attempt that holds it only', async () => {
    const id = await newMessage();
    await put(id, 'sending', 1);
    expect(await lifecycle.renewLease({ messageId: id, attempt: 1 }, 60_000)).toBe(true);
    expect(await lifecycle.renewLease({ messageId: id, attempt: 2 }, 60_000)).toBe(false);
    await put(id, 'sent', 1);
    expect(await lifecycle.renewLease({ messageId: id, attempt: 1 }, 60_000)).toBe(false);
  });

  const schedule = (id: string, at: string) =>
    t.db.query(
      `UPDATE messages SET status = 'scheduled', scheduled_at = $2, updated_at = now() - interval '1 hour'
        WHERE id = $1`,
      [id, at],
    );

  it('reschedules with the new time in the message and in a scheduled event', async () => {
    const id = await newMessage();
    await put(id, 'scheduled');
    const at = new Date(Date.now() + 3_600_000);
    expect(await lifecycle.reschedule(ws.workspaceId, id, at)).toMatchObject({
      type: 'scheduled',
      detail: { scheduled_at: at.toISOString(), rescheduled: true },
    });
    const { rows } = await t.db.query(`SELECT status, scheduled_at FROM messages WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ status: 'scheduled', scheduled_at: at });
  });

  it('releases due scheduled messages only, each with a pending event of its workspace, as the only releaser', async () => {
    const due = [await newMessage('due1@example.test'), await newMessage('due2@example.test')];
    const later = await newMessage('later@example.test');
    const canceled = await newMessage('canceled@example.test');
    for (const id of due) await schedule(id, new Date(Date.now() - 1000).toISOString());
    await schedule(later, new Date(Date.now() + 3_600_000).toISOString());
    await schedule(canceled, new Date(Date.now() - 1000).toISOString());
    await put(canceled, 'canceled');

    // Another process releasing: this one skips its turn.
    await t.db.query(`BEGIN; SELECT pg_advisory_xact_lock(hashtext('leadpush.delivery.release'))`);
    try {
      expect(await lifecycle.releaseDue(100)).toBeNull();
    } finally {
      await t.db.query('COMMIT');
    }
    expect((await state(due[0])).status).toBe('scheduled');

    expect(await lifecycle.releaseDue(1)).toEqual([due[0]]);
    expect((await lifecycle.releaseDue(100))?.sort()).toEqual([due[1]]);
    expect(await lifecycle.releaseDue(100)).toEqual([]);
    for (const id of due) {
      const { rows } = await t.db.query(
        `SELECT m.status, m.updated_at > now() - interval '1 minute' AS touched, e.type, e.workspace_id
           FROM messages m JOIN message_events e ON e.message_id = m.id
          WHERE m.id = $1 ORDER BY e.id DESC LIMIT 1`,
        [id],
      );
      expect(rows[0]).toEqual({
        status: 'pending',
        touched: true,
        type: 'pending',
        workspace_id: ws.workspaceId,
      });
    }
    expect((await state(later)).status).toBe('scheduled');
    expect((await state(canceled)).status).toBe('canceled');
  });

  it("tells the event feed (the metrics) of an event written in a caller's transaction once it commits, never if it rolls back", async () => {
    const sql = t.app.get(Sql);
    const id = await newMessage('feed-after-commit@example.test');
    await put(id, 'failed');
    const seen: MessageEventType[] = [];
    t.app
      .get(MessageEventFeed)
      .subscribe((type, count) => seen.push(...Array<MessageEventType>(count).fill(type)));

    const rollback = new Error('rolled back by the test');
    await expect(
      sql.transaction(async (tx) => {
        expect(await lifecycle.retry(ws.workspaceId, id, tx)).not.toBeNull();
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(seen).toEqual([]);
    expect((await state(id)).status).toBe('failed');

    let seenBeforeCommit: MessageEventType[] = ['pending'];
    const event = await sql.transaction(async (tx) => {
      const written = await lifecycle.retry(ws.workspaceId, id, tx);
      seenBeforeCommit = [...seen];
      return written;
    });
    expect(event).not.toBeNull();
    expect(seenBeforeCommit).toEqual([]);
    expect(seen).toEqual([event?.type]);
    expect((await state(id)).status).toBe('pending');
  });
});
