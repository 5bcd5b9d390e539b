import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, eventTypes, Sender, settledMessage } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

describe('POST /v1/messages/:uuid/retry', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({
      SMTP_URL: smtp.url,
      DELIVERY_MAX_ATTEMPTS: '1',
      SWEEP_INTERVAL_MS: '250',
      SWEEP_GRACE_MS: '500',
    });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterEach(() => {
    smtp.setRcptHandler(undefined);
    smtp.reset();
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const read = async (uuid: string) => (await ws.api('get', `/v1/messages/${uuid}`).expect(200)).body.data;
  const settled = (uuid: string, status?: string) => settledMessage(ws, uuid, status);
  const send = async (to: string) =>
    (
      await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: [to], subject: 'Held', text: 'x' })
        .expect(202)
    ).body.data.messages[0].uuid as string;
  const retry = (uuid: string, as: Workspace = ws) => as.api('post', `/v1/messages/${uuid}/retry`);
  const receivedBy = (address: string) => smtp.messages.filter((m) => m.envelopeTo[0] === address).length;

  it('releases mail held by a suppression once the address is removed, and delivers it once', async () => {
    await ws.api('post', '/v1/suppressions').send({ email: 'held@example.test' }).expect(201);
    const uuid = await send('held@example.test');
    expect((await settled(uuid)).status).toBe('suppressed');

    const refused = await retry(uuid).expect(409);
    expect(refused.body).toMatchObject({
      error: 'not_retryable',
      message: expect.stringContaining('suppression'),
    });
    expect((await read(uuid)).status).toBe('suppressed');

    await ws.api('delete', '/v1/suppressions/held@example.test').expect(204);
    const accepted = await retry(uuid).expect(202);
    const now = await read(uuid);
    expect(Object.keys(accepted.body.data).sort()).toEqual(Object.keys(now).sort());
    expect(accepted.body.data.uuid).toBe(uuid);
    expect(eventTypes(accepted.body.data.events).slice(0, 4)).toEqual([
      'pending',
      'sending',
      'suppressed',
      'pending',
    ]);
    expect(accepted.body.data.events[3].detail).toEqual({ retry: true });

    const final = await settled(uuid, 'sent');
    expect(eventTypes(final.events)).toEqual([
      'pending',
      'sending',
      'suppressed',
      'pending',
      'sending',
      'sent',
    ]);
    expect(final.events[4].detail).toEqual({ attempt: 1 });
    expect(final.events[5].detail).toMatchObject({ attempt: 1, smtp_code: 250 });
    // Longer than a sweep and its grace: a second delivery would have started by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receivedBy('held@example.test')).toBe(1);

    const again = await retry(uuid).expect(409);
    expect(again.body.error).toBe('not_retryable');
    expect(again.body.message).toContain('sent');
  });

  it('delivers afresh a message that failed, with DELIVERY_MAX_ATTEMPTS attempts again', async () => {
    smtp.setRcptHandler(() => ({ code: 451, message: '4.3.0 Try again later' }));
    const uuid = await send('flaky@example.test');
    const failed = await settled(uuid);
    expect(failed.status).toBe('failed');
    expect(eventTypes(failed.events)).toEqual(['pending', 'sending', 'failed']);

    smtp.setRcptHandler(undefined);
    await retry(uuid).expect(202);
    const final = await settled(uuid, 'sent');
    expect(eventTypes(final.events)).toEqual(['pending', 'sending', 'failed', 'pending', 'sending', 'sent']);
    expect(final.events[5].detail).toMatchObject({ attempt: 1, smtp_code: 250 });
    expect(receivedBy('flaky@example.test')).toBe(1);
  });

  it('releases a message once when two retries race', async () => {
    smtp.setRcptHandler(() => ({ code: 451, message: '4.3.0 Try again later' }));
    const uuid = await send('raced@example.test');
    expect((await settled(uuid)).status).toBe('failed');
    smtp.setRcptHandler(undefined);

    const answers = await Promise.all([retry(uuid), retry(uuid), retry(uuid)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409]);
    const final = await settled(uuid, 'sent');
    expect(eventTypes(final.events).filter((type) => type === 'pending')).toHaveLength(2);
    expect(receivedBy('raced@example.test')).toBe(1);
  });

  it('answers 404 for a malformed uuid, an unknown one and one of another workspace', async () => {
    smtp.setRcptHandler(() => ({ code: 451, message: '4.3.0 Try again later' }));
    const uuid = await send('mine@example.test');
    expect((await settled(uuid)).status).toBe('failed');
    const other = await createWorkspace(t);
    for (const [as, id] of [
      [ws, 'not-a-uuid'],
      [ws, '00000000-0000-4000-8000-000000000000'],
      [other, uuid],
    ] as const) {
      const res = await retry(id, as).expect(404);
      expect(res.body.error).toBe('not_found');
    }
    expect((await read(uuid)).status).toBe('failed');
  });
});
