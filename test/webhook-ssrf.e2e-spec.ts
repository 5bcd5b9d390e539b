import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import { startWebhookReceiver, WebhookReceiver } from './support/webhook-receiver';

/** With the default WEBHOOK_ALLOW_PRIVATE=false, every class of address SPEC §12 refuses, in the forms a URL can spell it. */
const REFUSED: [kind: string, url: string][] = [
  ['loopback', 'http://127.0.0.1/hook'],
  ['loopback, elsewhere in 127/8', 'http://127.45.0.2:8080/hook'],
  ['loopback IPv6', 'http://[::1]/hook'],
  ['loopback by name', 'http://localhost:3000/hook'],
  ['loopback as a decimal number', 'http://2130706433/'],
  ['loopback in hex parts', 'http://0x7f.1/'],
  ['loopback, short form', 'http://127.1/'],
  ['loopback in octal', 'http://017700000001/'],
  ['loopback, IPv4-mapped IPv6', 'http://[::ffff:127.0.0.1]/'],
  ['loopback, IPv4-mapped IPv6 in hex', 'http://[::ffff:7f00:1]/'],
  ['private 10/8', 'https://10.0.0.1/hook'],
  ['private 172.16/12', 'https://172.20.1.1/hook'],
  ['private 192.168/16', 'https://192.168.0.10/hook'],
  ['private, IPv4-mapped', 'https://[::ffff:192.168.0.10]/hook'],
  ['link-local (cloud metadata)', 'http://169.254.169.254/latest/meta-data/'],
  ['link-local IPv6', 'http://[fe80::1]/hook'],
  ['unique-local IPv6', 'http://[fd00:ec2::254]/hook'],
  ['unique-local IPv6, fc00', 'http://[fc00::1]/hook'],
  ['CGNAT', 'http://100.64.0.1/hook'],
  ['CGNAT, top', 'http://100.127.255.254/hook'],
  ['multicast', 'http://224.0.0.251/hook'],
  ['multicast IPv6', 'http://[ff02::1]/hook'],
  ['unspecified', 'http://0.0.0.0/hook'],
  ['unspecified, as 0', 'http://0/hook'],
  ['unspecified IPv6', 'http://[::]/hook'],
];

describe('webhook URLs that could reach the inside (SPEC §12, SSRF)', () => {
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    receiver = await startWebhookReceiver();
    t = await createTestApp({
      SMTP_URL: smtp.url,
      WEBHOOK_RETRY_SCHEDULE: '200ms',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
    });
    expect(t.config.webhooks.allowPrivate).toBe(false);
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    await smtp.close();
  });

  it.each(REFUSED)('refuses %s (%s) with 422 on url, creating nothing', async (_, url) => {
    const res = await ws.api('post', '/v1/webhooks').send({ url }).expect(422);
    expect(res.body).toMatchObject({ error: 'validation_failed', errors: [{ field: 'url' }] });
    expect(res.body.errors[0].message).toMatch(/resolves to .+, a .+ address/);
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM webhook_endpoints');
    expect(rows[0].n).toBe(0);
  });

  it('refuses a host that does not resolve, and takes a public address', async () => {
    const unknown = await ws
      .api('post', '/v1/webhooks')
      .send({ url: 'https://nowhere.invalid/hook' })
      .expect(422);
    expect(unknown.body.errors[0]).toMatchObject({
      field: 'url',
      message: expect.stringMatching(/could not be resolved/),
    });
    const created = await ws
      .api('post', '/v1/webhooks')
      .send({ url: 'https://93.184.215.14/hook' })
      .expect(201);
    const patched = await ws
      .api('patch', `/v1/webhooks/${created.body.data.id}`)
      .send({ url: 'http://127.1/' })
      .expect(422);
    expect(patched.body.errors[0].field).toBe('url');
    const now = await ws.api('get', `/v1/webhooks/${created.body.data.id}`).expect(200);
    expect(now.body.data.url).toBe('https://93.184.215.14/hook');
    await ws.api('delete', `/v1/webhooks/${created.body.data.id}`).expect(204);
  });

  it('checks again before every attempt: a stored private URL is refused and never called', async () => {
    // As if the host had resolved to a public address at creation and to a private one since.
    const { rows } = await t.db.query(
      `INSERT INTO webhook_endpoints (workspace_id, url, events, secret) VALUES ($1, $2, '{message.sent}', $3) RETURNING id`,
      [ws.workspaceId, receiver.url('/inside'), `plain:whsec_${Buffer.alloc(32, 1).toString('base64')}`],
    );
    const endpointId = rows[0].id;
    await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: ['a@example.test'], subject: 's', text: 'x' })
      .expect(202);
    const log = await eventually(
      async () => {
        const res = await ws.api('get', `/v1/webhooks/${endpointId}/deliveries`).expect(200);
        return res.body.data.length === 2 ? res.body.data : null;
      },
      { what: 'both attempts refused' },
    );
    expect(log.map((a: { outcome: string }) => a.outcome)).toEqual(['gave_up', 'failure']);
    for (const attempt of log) {
      expect(attempt.status_code).toBeNull();
      expect(attempt.error).toBe("refused: url's host is or resolves to 127.0.0.1, a loopback address");
    }
    expect(receiver.received).toHaveLength(0);
  });
});
