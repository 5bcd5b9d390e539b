import { IdempotencyService } from '../src/modules/idempotency/idempotency.service';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import { lockTable } from './support/table-lock';

describe('Idempotency-Key on POST /v1/emails', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ SMTP_URL: smtp.url });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const body = (subject = 'Receipt') => ({
    from: sender.email,
    to: ['one@example.test', 'two@example.test'],
    subject,
    text: 'Thanks',
  });
  const post = (key: string | undefined, payload: object, as: Workspace = ws) => {
    const req = as.api('post', '/v1/emails');
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send(payload);
  };
  const messageCount = async (subject: string) =>
    (
      await t.db.query(
        `SELECT count(*)::int AS n FROM messages m JOIN email_requests r ON r.id = m.request_id WHERE r.subject = $1`,
        [subject],
      )
    ).rows[0].n as number;

  it('replays the first answer for the same body and creates nothing more; one SMTP transaction per recipient', async () => {
    const first = await post('order-1', body('replay')).expect(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post('order-1', {
      text: 'Thanks',
      subject: 'replay',
      to: body().to,
      from: sender.email,
    }).expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await messageCount('replay')).toBe(2);

    await smtp.waitFor(2);
    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND status = 'sent'`,
        [first.body.data.messages.map((m: { uuid: string }) => m.uuid)],
      );
      return rows[0].n === 2;
    });
    await post('order-1', body('replay')).expect(202);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.messages.filter((m) => m.parsed.subject === 'replay')).toHaveLength(2);
  });

  it('refuses the same key with a different body', async () => {
    await post('order-2', body('first body')).expect(202);
    const res = await post('order-2', body('second body')).expect(409);
    expect(res.body).toEqual({ error: 'idempotency_key_reused', message: expect.any(String) });
    expect(await messageCount('second body')).toBe(0);
  });

  it('20 concurrent requests with one key make exactly one set of messages', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => post('burst-1', body('burst'))));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    const accepted = responses.filter((r) => r.status === 202);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const r of accepted) expect(r.body).toEqual(accepted[0].body);
    for (const r of responses.filter((r) => r.status === 409)) {
      expect(r.body.error).toBe('idempotency_request_in_progress');
    }
    expect(await messageCount('burst')).toBe(2);
  });

  it('keys are per workspace', async () => {
    const other = await createWorkspace(t);
    const theirSender = await createSender(t, other);
    await post('shared-key', body('ws-a')).expect(202);
    const res = await post('shared-key', { ...body('ws-b'), from: theirSender.email }, other).expect(202);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await messageCount('ws-b')).toBe(2);
  });

  it('a request that failed does not use up its key', async () => {
    await post('retry-me', { ...body('after fix'), from: `nobody@${sender.domain}` }).expect(422);
    const res = await post('retry-me', body('after fix')).expect(202);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(257)],
    ['not printable ASCII', 'clé-1'],
  ])('400 invalid_idempotency_key when %s', async (_, key) => {
    const res = await ws
      .api('post', '/v1/emails')
      .set('Idempotency-Key', Buffer.from(key, 'utf8').toString('latin1'))
      .send(body('bad key'));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_idempotency_key', message: expect.any(String) });
    expect(await messageCount('bad key')).toBe(0);
  });

  it('accepts a 256-character key', async () => {
    await post('k'.repeat(256), body('long key')).expect(202);
  });

  /** Makes a key look as if its request had last refreshed it two minutes ago. */
  const age = (key: string) =>
    t.db.query(
      `UPDATE idempotency_keys SET updated_at = now() - interval '2 minutes' WHERE workspace_id = $1 AND key = $2`,
      [ws.workspaceId, key],
    );

  it('a request waiting to be stored keeps its key: an identical retry is 409, however long it waits', async () => {
    const lock = await lockTable(t, 'email_requests');
    try {
      const first = post('waiting-1', body('kept while waiting')).then((res) => res);
      await eventually(async () => (await lock.waiting()) >= 1, { what: 'the insert waiting' });
      await age('waiting-1');
      await t.app.get(IdempotencyService).keepAlive();
      const retry = await post('waiting-1', body('kept while waiting'));
      expect(retry.status).toBe(409);
      expect(retry.body.error).toBe('idempotency_request_in_progress');
      await lock.release();
      expect((await first).status).toBe(202);
      expect(await messageCount('kept while waiting')).toBe(2);
    } finally {
      await lock.release();
    }
  });

  it('a key that looks abandoned is taken over safely: only the new owner stores its work and its answer', async () => {
    const lock = await lockTable(t, 'email_requests');
    try {
      const first = post('abandoned-1', body('taken over')).then((res) => res);
      await eventually(async () => (await lock.waiting()) >= 1, { what: 'the first insert waiting' });
      // The first request's instance could not refresh its key (cut off from the database).
      await age('abandoned-1');
      const second = post('abandoned-1', body('taken over')).then((res) => res);
      await eventually(async () => (await lock.waiting()) >= 2, { what: 'both inserts waiting' });
      await lock.release();
      const [lost, owner] = await Promise.all([first, second]);
      expect(lost.status).toBe(409);
      expect(lost.body.error).toBe('idempotency_request_in_progress');
      expect(owner.status).toBe(202);
      expect(await messageCount('taken over')).toBe(2);
      const { rows } = await t.db.query(
        `SELECT status, response FROM idempotency_keys WHERE workspace_id = $1 AND key = $2`,
        [ws.workspaceId, 'abandoned-1'],
      );
      expect(rows).toEqual([{ status: 'done', response: owner.body.data }]);
      const replay = await post('abandoned-1', body('taken over')).expect(202);
      expect(replay.body).toEqual(owner.body);
    } finally {
      await lock.release();
    }
  });

  it('pruning removes every expired key in one run, more than 10,000', async () => {
    await t.db.query(
      `INSERT INTO idempotency_keys (workspace_id, key, request_hash, status, created_at, updated_at)
       SELECT $1, 'expired-' || g, '\\x00'::bytea, 'done', now() - interval '25 hours', now() - interval '25 hours'
         FROM generate_series(1, 10500) AS g`,
      [ws.workspaceId],
    );
    const count = async (where: string) =>
      (await t.db.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE ${where}`)).rows[0]
        .n as number;
    const fresh = await count(`created_at >= now() - interval '24 hours'`);
    expect(fresh).toBeGreaterThan(0);

    expect(await t.app.get(IdempotencyService).prune()).toBe(10500);
    expect(await count(`created_at < now() - interval '24 hours'`)).toBe(0);
    expect(await count('true')).toBe(fresh);
  });
});
