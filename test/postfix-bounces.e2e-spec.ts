import { messageOfReturnPath } from '../src/modules/delivery/envelope';
import { InboundSmtpServer } from '../src/modules/inbound/inbound-smtp.server';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { PrivatePostfix, startPostfix } from './support/postfix';
import { freePort } from './support/processes';
import { createSender, Sender, settledMessage } from './support/sending';

const BOUNCE_DOMAIN = 'bounces.leadpush.test';
const SIGNING_KEY = 'postfix-e2e-signing-key-0123456789abcdef';

describe('a real Postfix as the relay: its own DSN comes back to the inbound listener (SPEC §13)', () => {
  let t: TestApp;
  let postfix: PrivatePostfix;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    const postfixPort = await freePort();
    t = await createTestApp({
      SMTP_URL: `smtp://127.0.0.1:${postfixPort}`,
      BOUNCE_DOMAIN,
      BOUNCE_SIGNING_KEY: SIGNING_KEY,
      INBOUND_SMTP_PORT: '0',
    });
    postfix = await startPostfix({
      port: postfixPort,
      bounceDomain: BOUNCE_DOMAIN,
      bouncePort: t.app.get(InboundSmtpServer).port()!,
      mailboxes: ['exists'],
    });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  }, 30_000);
  afterAll(async () => {
    await postfix?.stop();
    await t?.close();
  });

  const send = async (to: string) => {
    const { body } = await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: [to], subject: 'via postfix', text: 'hello' })
      .expect(202);
    return body.data.messages[0].uuid as string;
  };

  it('a message to an unknown mailbox: 250 (sent), then Postfix bounces it: bounced 5.1.1, the address suppressed', async () => {
    const recipient = `nobody@${postfix.domain}`;
    const uuid = await send(recipient);
    const bounced = await eventually(
      async () => {
        const { body } = await ws.api('get', `/v1/messages/${uuid}`).expect(200);
        return body.data.status === 'bounced' ? body.data : null;
      },
      { timeoutMs: 30_000, what: 'the message bounced by Postfix' },
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${(await postfix.log()).slice(-3000)}`);
    });
    const types = bounced.events.map((e: { type: string }) => e.type);
    expect(types.slice(-2)).toEqual(['sent', 'bounced']);
    expect(bounced.events.at(-2).detail).toMatchObject({ smtp_code: 250 });
    expect(bounced.events.at(-1).detail).toEqual({
      dsn: true,
      status: '5.1.1',
      diagnostic_code: `X-Postfix; unknown user: "${recipient}"`,
      remote_mta: null,
    });
    const { body } = await ws.api('get', '/v1/suppressions').expect(200);
    expect(body.data).toEqual([expect.objectContaining({ email: recipient, reason: 'hard_bounce' })]);
  });

  it('a message to an existing mailbox arrives there with its per-message return path, and stays sent', async () => {
    const uuid = await send(`exists@${postfix.domain}`);
    await settledMessage(ws, uuid, 'sent');
    const mbox = await eventually(
      async () => {
        const text = await postfix.mailbox('exists');
        return text.includes(`<${uuid}@${sender.domain}>`) ? text : null;
      },
      { what: 'the message in the mailbox' },
    );
    const returnPath = /^Return-Path: <([^>]+)>$/m.exec(mbox)?.[1];
    expect(returnPath).toMatch(/^b-[a-z2-7]{26}-[a-z2-7]{16}@bounces\.leadpush\.test$/);
    expect(messageOfReturnPath(returnPath!, BOUNCE_DOMAIN, Buffer.from(SIGNING_KEY))).toBe(uuid);
    expect(mbox).toMatch(new RegExp(`^From ${returnPath!.replace(/[.]/g, '\\.')} `, 'm'));
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM inbound_reports`);
    expect(rows[0].n).toBe(1);
    const { body } = await ws.api('get', `/v1/messages/${uuid}`).expect(200);
    expect(body.data.status).toBe('sent');
  });
});
