import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

/** What each local part does to a test key's message (SPEC §14): final status and the statuses it went through. */
const OUTCOMES: [string, string, string[]][] = [
  ['bounced', 'bounced', ['pending', 'sending', 'bounced']],
  ['deferred', 'sent', ['pending', 'sending', 'deferred', 'sending', 'sent']],
  ['complained', 'complained', ['pending', 'sending', 'sent', 'complained']],
  ['suppressed', 'suppressed', ['pending', 'sending', 'suppressed']],
  ['anyone', 'sent', ['pending', 'sending', 'sent']],
  ['bounced+label', 'bounced', ['pending', 'sending', 'bounced']],
];

describe('test mode through the API (SPEC §14)', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let testToken: string;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ SMTP_URL: smtp.url, DELIVERY_BACKOFF_MS: '200', SWEEP_INTERVAL_MS: '200' });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    const key = await ws.api('post', '/v1/api-keys').send({ name: 'ci', mode: 'test' }).expect(201);
    testToken = key.body.data.token;
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const asTest = (method: 'get' | 'post', path: string) =>
    t.http[method](path).set('Authorization', `Bearer ${testToken}`);

  it.each(OUTCOMES)('%s@… ends %s through every status, never reaching SMTP', async (local, status, path) => {
    const recipient = `${local}@example.test`;
    const sent = await asTest('post', '/v1/emails')
      .send({ from: sender.email, to: [recipient], subject: 'test mode', text: 'x' })
      .expect(202);
    const uuid = sent.body.data.messages[0].uuid;
    const message = await eventually(
      async () => {
        const res = await asTest('get', `/v1/messages/${uuid}`).expect(200);
        const types = res.body.data.events.map((e: { type: string }) => e.type);
        return res.body.data.status === status && types.length === path.length ? res.body.data : null;
      },
      { what: `${recipient} ${status}` },
    );
    expect(message.test).toBe(true);
    expect(message.events.map((e: { type: string }) => e.type)).toEqual(path);
    expect(smtp.rcptAttempts(recipient)).toBe(0);
  });

  it('never changes the suppression list, and a live key still delivers for real', async () => {
    const suppressions = await ws.api('get', '/v1/suppressions').expect(200);
    expect(suppressions.body.data).toEqual([]);
    expect(smtp.messages).toHaveLength(0);

    const live = await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: ['bounced@example.test'], subject: 'live', text: 'x' })
      .expect(202);
    await smtp.waitFor(1);
    expect(smtp.messages[0].envelopeTo).toEqual(['bounced@example.test']);
    const read = await ws.api('get', `/v1/messages/${live.body.data.messages[0].uuid}`).expect(200);
    expect(read.body.data.test).toBe(false);
  });
});
