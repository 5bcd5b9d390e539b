import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

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
});
