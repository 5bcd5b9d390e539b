import { performance } from 'node:perf_hooks';
import { Lease } from '../src/modules/delivery/lease';
import { SimulatedDelivery } from '../src/modules/delivery/simulated-delivery';
import { MessageLifecycle } from '../src/modules/messages/message-lifecycle';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

const LEASE_MS = 60_000;

/**
 * Test mode's delivery side (SPEC §14) on a real database: a claimed message
 * marked as a test key's goes through the lifecycle to the outcome its local
 * part names. Until messages carry their `test` flag, the test sets it on the
 * claimed message, as the claim will.
 */
describe('simulated delivery of test messages', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let api: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let lifecycle: MessageLifecycle;
  let simulated: SimulatedDelivery;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    // Nothing is swept or retried on its own during the test: each attempt is the test's.
    t = await createTestApp({ SMTP_URL: smtp.url, SWEEP_GRACE_MS: '600000', DELIVERY_BACKOFF_MS: '600000' });
    // Accepts on a queue no worker reads, so the messages wait for the test.
    api = await createTestApp({ APP_ROLE: 'api', DATABASE_URL: t.config.databaseUrl });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    lifecycle = t.app.get(MessageLifecycle);
    simulated = t.app.get(SimulatedDelivery);
  });
  afterAll(async () => {
    await api.close();
    await t.close();
    await smtp.close();
  });

  const accept = async (to: string): Promise<string> => {
    const res = await api.http
      .post('/v1/emails')
      .set('Authorization', `Bearer ${ws.token}`)
      .send({ from: sender.email, to: [to], subject: 'Test mode', text: 'x' })
      .expect(202);
    return res.body.data.messages[0].uuid;
  };
  const attempt = async (uuid: string) => {
    const claim = await lifecycle.claim(uuid, LEASE_MS, 3);
    if (claim?.kind !== 'claimed') throw new Error(`message ${uuid} could not be claimed`);
    const message = { ...claim.message, test: true };
    const lease = new Lease(
      () => lifecycle.renewLease(message, LEASE_MS),
      LEASE_MS,
      performance.now(),
      () => {},
    );
    try {
      return await simulated.simulate(message, lease);
    } finally {
      lease.stop();
    }
  };
  const read = async (uuid: string) => (await ws.api('get', `/v1/messages/${uuid}`).expect(200)).body.data;
  const types = (message: { events: { type: string }[] }) => message.events.map((e) => e.type);

  it.each([
    ['anyone@example.test', 'sent', ['pending', 'sending', 'sent']],
    ['bounced@example.test', 'bounced', ['pending', 'sending', 'bounced']],
    ['bounced+signup@example.test', 'bounced', ['pending', 'sending', 'bounced']],
    ['suppressed@example.test', 'suppressed', ['pending', 'sending', 'suppressed']],
    ['complained@example.test', 'complained', ['pending', 'sending', 'sent', 'complained']],
  ])('%s ends %s', async (recipient, status, events) => {
    const uuid = await accept(recipient);
    expect(await attempt(uuid)).toBe(status);
    const message = await read(uuid);
    expect(message.status).toBe(status);
    expect(types(message)).toEqual(events);
    expect(message.events.slice(2).every((e: { detail: { test?: boolean } }) => e.detail.test === true)).toBe(
      true,
    );
  });

  it('defers a deferred+… recipient once, then sends it', async () => {
    const uuid = await accept('deferred+once@example.test');
    expect(await attempt(uuid)).toBe('deferred');
    expect((await read(uuid)).status).toBe('deferred');
    await t.db.query(`UPDATE messages SET next_attempt_at = now() WHERE id = $1`, [uuid]);
    expect(await attempt(uuid)).toBe('sent');
    const message = await read(uuid);
    expect(types(message)).toEqual(['pending', 'sending', 'deferred', 'sending', 'sent']);
    expect(message.events[2].detail).toMatchObject({ attempt: 1, smtp_code: 451, test: true });
    expect(message.events[4].detail).toMatchObject({ attempt: 2, smtp_code: 250, test: true });
  });

  it('never reaches SMTP, and never changes the suppression list', async () => {
    expect(smtp.rcptAttempts('bounced@example.test') + smtp.rcptAttempts('anyone@example.test')).toBe(0);
    expect(smtp.messages).toHaveLength(0);
    expect((await ws.api('get', '/v1/suppressions').expect(200)).body.data).toEqual([]);
  });
});
