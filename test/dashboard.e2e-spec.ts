import { createServer, type Server } from 'node:http';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { createTestApp, createWorkspace, eventually, type TestApp, type Workspace } from './support/app';
import { launchBrowser, listenOnLoopback, type TestBrowser } from './support/browser';
import { InboundSmtpServer } from '../src/modules/inbound/inbound-smtp.server';
import { type DnsServerHandle, startDnsServer } from './support/dns-server';
import { deliverReport, FIXTURE_RETURN_PATH, reportFixture } from './support/reports';
import { createSender, type Sender, settledMessage } from './support/sending';
import { type SmtpSink, startSmtpSink } from './support/smtp-sink';

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core)
 * against the real app on PostgreSQL and Redis, delivering to an SMTP sink
 * and verifying domains against a DNS server of the test. The app serves the
 * dashboard that `npm run build` made (the jest global setup builds it).
 */
describe('Dashboard (browser)', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let dns: DnsServerHandle;
  let browser: TestBrowser;
  let base: string;
  let ws: Workspace;
  let sender: Sender;
  let page: Page;

  beforeAll(async () => {
    sink = await startSmtpSink();
    dns = await startDnsServer();
    t = await createTestApp({
      SMTP_URL: sink.url,
      DNS_SERVERS: dns.server,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      BOUNCE_DOMAIN: 'bounces.leadpush.test',
      BOUNCE_SIGNING_KEY: 'dashboard-e2e-signing-key-0123456789abcdef',
      INBOUND_SMTP_PORT: '0',
    });
    base = await listenOnLoopback(t.app);
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sink?.close();
    await dns?.close();
  });

  beforeEach(async () => {
    page = await browser.newPage();
    page.setDefaultTimeout(10_000);
  });

  afterEach(async () => {
    await page.close();
  });

  async function signIn(token: string): Promise<void> {
    await page.goto(`${base}/dashboard/`);
    await page.getByLabel('API key').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  }

  const send = (to: string, extra: Record<string, unknown> = {}) =>
    ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: [to], subject: `Hello ${to}`, text: 'Hi', ...extra })
      .expect(202)
      .then((res) => res.body.data.messages[0].uuid as string);

  it("shows the API's 401 for a wrong key and keeps nothing", async () => {
    await page.goto(`${base}/dashboard/`);
    await page.getByLabel('API key').fill('lp_thisisnotakey0000000000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const { body } = await request(base)
      .get('/v1/api-keys')
      .set('Authorization', 'Bearer lp_wrong')
      .expect(401);
    expect(await alert.textContent()).toContain(`${body.error} ${body.message}`);
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
  });

  it('signs in with a key, watches a message reach sent in the list, opens its timeline', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    sink.setDataHandler(() => gate.then(() => undefined));
    try {
      await signIn(ws.token);
      const recipient = `watched-${Date.now()}@example.test`;
      const uuid = await send(recipient, { headers: { 'X-Leadpush-Tag': 'welcome' } });
      await settledMessage(ws, uuid, 'sending');
      await page.reload();
      const row = page.getByTestId('message-row').filter({ hasText: recipient });
      await row.getByText('sending', { exact: true }).waitFor();
      await page.getByText('Updating while messages are in flight').waitFor();

      release();
      // No reload: the list refreshes itself while a message is in flight.
      await row.getByText('sent', { exact: true }).waitFor({ timeout: 15_000 });
      expect(await row.textContent()).toContain('welcome');

      await row.getByRole('link', { name: recipient }).click();
      await page.waitForURL(`${base}/dashboard/messages/${uuid}`);
      const timeline = page.getByTestId('timeline');
      await timeline.getByText('sent', { exact: true }).waitFor();
      const events = await timeline.locator('li .badge').allTextContents();
      expect(events).toEqual(['pending', 'sending', 'sent']);
      expect(await timeline.locator('.smtp-reply').textContent()).toMatch(/250/);
      expect(await page.getByRole('main').textContent()).toContain(uuid);
    } finally {
      sink.setDataHandler(undefined);
    }
  });

  it("shows a bounce report's DSN details in the timeline", async () => {
    const uuid = await send('nobody@example.org');
    await settledMessage(ws, uuid, 'sent');
    const delivered = await eventually(async () =>
      sink.messages.find((m) => m.parsed.messageId === `<${uuid}@${sender.domain}>`),
    );
    const raw = reportFixture('postfix-user-unknown.eml', [[FIXTURE_RETURN_PATH, delivered.envelopeFrom]]);
    const port = t.app.get(InboundSmtpServer).port()!;
    expect((await deliverReport(port, { to: [delivered.envelopeFrom], raw })).data).toMatchObject({
      code: 250,
    });
    const bounced = await settledMessage(ws, uuid, 'bounced');

    await signIn(ws.token);
    await page.goto(`${base}/dashboard/messages/${uuid}`);
    const report = page
      .getByTestId('timeline')
      .locator('li')
      .filter({ hasText: 'Delivery status notification' });
    await report.waitFor();
    const detail = bounced.events.at(-1).detail;
    for (const value of [detail.status, detail.diagnostic_code, detail.remote_mta]) {
      await report.getByText(value, { exact: true }).waitFor();
    }
    expect(await page.getByTestId('timeline').locator('li .badge').allTextContents()).toEqual([
      'pending',
      'sending',
      'sent',
      'bounced',
    ]);
  });

  it('filters the list by recipient and by status from the URL', async () => {
    const recipient = `filtered-${Date.now()}@example.test`;
    await settledMessage(ws, await send(recipient), 'sent');
    await signIn(ws.token);
    await page.getByLabel('Recipient').fill(recipient);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/recipient=/);
    await eventually(async () => (await page.getByTestId('message-row').count()) === 1, { what: 'one row' });
    expect(await page.getByTestId('message-row').textContent()).toContain(recipient);

    await page.goto(`${base}/dashboard/?status=canceled`);
    await page.getByText('No message matches these filters.').waitFor();
  });

  it('adds a domain, shows its DNS records, and verifies them record by record', async () => {
    await signIn(ws.token);
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByLabel('Domain name').fill('not a domain');
    await page.getByRole('button', { name: 'Add domain' }).click();
    const fieldError = page.locator('.field-error');
    await fieldError.waitFor();
    const { body } = await ws.api('post', '/v1/domains').send({ name: 'not a domain' }).expect(422);
    expect(await fieldError.textContent()).toBe(body.errors[0].message);
    expect(await page.getByRole('alert').textContent()).toContain('validation_failed');

    const name = `shop-${Date.now()}.example.test`;
    await page.getByLabel('Domain name').fill(name);
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    const records = page.getByTestId('dns-record');
    expect(await records.count()).toBe(2);
    const { body: listed } = await ws.api('get', '/v1/domains').expect(200);
    const domain = listed.data.find((d: { name: string }) => d.name === name);
    for (const [i, record] of domain.records.entries()) {
      expect(await records.nth(i).locator('.record-name').textContent()).toBe(record.name);
      expect(await records.nth(i).locator('.record-value code').textContent()).toBe(record.value);
    }
    expect(domain.records[0].name).toBe(`_leadpush.${name}`);

    dns.setTxt(domain.records[0].name, domain.records[0].value);
    await page.getByRole('button', { name: 'Verify DNS records' }).click();
    await records.nth(0).getByText('found', { exact: true }).waitFor();
    await records.nth(1).getByText('not found', { exact: true }).waitFor();
    expect(await page.locator('.page-header .badge').first().textContent()).toBe('pending');

    dns.setTxt(domain.records[1].name, domain.records[1].value);
    await page.getByRole('button', { name: 'Verify DNS records' }).click();
    await records.nth(1).getByText('found', { exact: true }).waitFor();
    await page.locator('.page-header').getByText('verified', { exact: true }).waitFor();

    await page.getByRole('textbox', { name: 'Address', exact: true }).fill('billing');
    await page.getByRole('button', { name: 'Add address' }).click();
    const address = page.locator('.list-row').filter({ hasText: `billing@${name}` });
    await address.getByText('sendable', { exact: true }).waitFor();
  });

  it('adds a contact with a delivery route and changes the route', async () => {
    const email = `ada-${Date.now()}@example.com`;
    await signIn(ws.token);
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Delivery route', { exact: true }).selectOption({ label: sender.email });
    await page.getByRole('button', { name: 'Add contact' }).click();
    const row = page.getByRole('row').filter({ hasText: email });
    await row.getByText(sender.email, { exact: true }).waitFor();
    const { body } = await ws.api('get', '/v1/contacts').query({ email }).expect(200);
    expect(body.data[0]).toMatchObject({ first_name: 'Ada', delivery_address_id: sender.addressId });

    await row.getByRole('button', { name: `Change route of ${email}` }).click();
    await row.getByLabel(`Delivery route of ${email}`).selectOption({ label: "The request's from" });
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByText("The request's from", { exact: true }).waitFor();
    const { body: after } = await ws.api('get', '/v1/contacts').query({ email }).expect(200);
    expect(after.data[0].delivery_address_id).toBeNull();
  });

  it('adds and removes a suppression, and releases the mail held back for it', async () => {
    const address = `held-${Date.now()}@example.test`;
    await signIn(ws.token);
    await page.getByRole('link', { name: 'Suppressions' }).click();
    await page.getByLabel('Address to suppress').fill(address);
    await page.getByRole('button', { name: 'Suppress', exact: true }).click();
    const row = page.getByTestId('suppression-row').filter({ hasText: address });
    await row.getByText('manual').waitFor();
    await ws
      .api('get', '/v1/suppressions')
      .expect(200)
      .expect((res) => {
        expect(res.body.data.map((s: { email: string }) => s.email)).toContain(address);
      });

    const held = await send(address);
    await settledMessage(ws, held, 'suppressed');
    await row.getByRole('button', { name: `Remove and release held mail for ${address}` }).click();
    await page
      .getByText(`${address} is no longer suppressed. 1 held message released for delivery.`)
      .waitFor();
    // The notice comes first; the row goes when the list has reloaded.
    await row.waitFor({ state: 'detached' });
    await settledMessage(ws, held, 'sent');

    await page.getByLabel('Address to suppress').fill(address);
    await page.getByRole('button', { name: 'Suppress', exact: true }).click();
    await row.waitFor();
    await row.getByRole('button', { name: `Remove ${address}`, exact: true }).click();
    await page.getByText(`${address} is no longer suppressed.`, { exact: true }).waitFor();
    await ws
      .api('get', '/v1/suppressions')
      .expect(200)
      .expect((res) => {
        expect(res.body.data.map((s: { email: string }) => s.email)).not.toContain(address);
      });
  });

  it('retries a suppressed message from its page once the address is released', async () => {
    const address = `retry-${Date.now()}@example.test`;
    await ws.api('post', '/v1/suppressions').send({ email: address }).expect(201);
    const uuid = await send(address);
    await settledMessage(ws, uuid, 'suppressed');
    await signIn(ws.token);
    await page.goto(`${base}/dashboard/messages/${uuid}`);
    await page.getByRole('button', { name: 'Retry delivery' }).click();
    const { body } = await ws.api('post', `/v1/messages/${uuid}/retry`).expect(409);
    await page.getByRole('alert').getByText(body.message).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('not_retryable');

    await ws.api('delete', `/v1/suppressions/${address}`).expect(204);
    await page.getByRole('button', { name: 'Retry delivery' }).click();
    await page.getByTestId('timeline').getByText('sent', { exact: true }).waitFor({ timeout: 15_000 });
  });

  it('cancels a scheduled message from its page', async () => {
    const scheduledAt = new Date(Date.now() + 3_600_000).toISOString();
    const uuid = await send(`later-${Date.now()}@example.test`, { scheduled_at: scheduledAt });
    await signIn(ws.token);
    await page.goto(`${base}/dashboard/messages/${uuid}`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Cancel message' }).click();
    await page.locator('.page-header').getByText('canceled', { exact: true }).waitFor();
    await settledMessage(ws, uuid, 'canceled');
  });

  it('creates a webhook and shows its secret once', async () => {
    const posted: string[] = [];
    const receiver: Server = createServer((req, res) => {
      posted.push(String(req.headers['webhook-id']));
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as { port: number };
    try {
      const url = `http://127.0.0.1:${port}/hooks/leadpush`;
      await signIn(ws.token);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByLabel('Endpoint URL').fill(url);
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const secret = await page.getByTestId('secret').textContent();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      await page.getByTestId('webhook-row').filter({ hasText: url }).waitFor();

      await page.getByRole('button', { name: 'I have stored it' }).click();
      expect(await page.getByTestId('secret').count()).toBe(0);
      await page.reload();
      await page.getByTestId('webhook-row').filter({ hasText: url }).waitFor();
      await page.getByRole('link', { name: url }).click();
      await page.getByRole('heading', { name: 'Recent deliveries' }).waitFor();
      expect(await page.content()).not.toContain(secret);
      await page.getByText('Nothing delivered yet.').waitFor();

      await settledMessage(ws, await send(`hooked-${Date.now()}@example.test`), 'sent');
      await eventually(async () => posted.length >= 3, {
        what: 'the endpoint to receive pending, sending, sent',
      });
      await page.reload();
      const answers = page.getByRole('table').getByText('HTTP 204');
      await answers.first().waitFor();
      const types = await page.getByRole('table').locator('td[data-label="Event"] code').allTextContents();
      expect(types).toEqual(expect.arrayContaining(['message.pending', 'message.sending', 'message.sent']));

      await page.getByRole('button', { name: 'Disable' }).click();
      await page.locator('.page-header').getByText('disabled', { exact: true }).waitFor();
      const { body } = await ws.api('get', '/v1/webhooks').expect(200);
      expect(body.data.find((w: { url: string }) => w.url === url).enabled).toBe(false);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('creates an API key (token shown once) and revokes it; a test key shows the test-mode banner', async () => {
    await signIn(ws.token);
    expect(await page.getByText('Test mode').count()).toBe(0);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill('staging');
    await page.getByLabel('Mode').selectOption('test');
    await page.getByRole('button', { name: 'Create key' }).click();
    const token = (await page.getByTestId('secret').textContent()) ?? '';
    expect(token).toMatch(/^lp_test_/);
    await ws.api('get', '/v1/messages').set('Authorization', `Bearer ${token}`).expect(200);

    const testTab = await browser.newPage({ width: 390, height: 844 });
    try {
      await testTab.goto(`${base}/dashboard/`);
      await testTab.getByLabel('API key').fill(token);
      await testTab.getByRole('button', { name: 'Sign in' }).click();
      await testTab.getByText('Test mode', { exact: true }).waitFor();
    } finally {
      await testTab.close();
    }

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke staging' }).click();
    await eventually(async () => (await page.getByRole('button', { name: 'Revoke staging' }).count()) === 0, {
      what: 'the revoked key to leave the list',
    });
    await request(base).get('/v1/messages').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('signs out and forgets the key', async () => {
    await signIn(ws.token);
    expect(await page.evaluate<string[]>('Object.values(sessionStorage)')).toEqual([ws.token]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to your workspace' }).waitFor();
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to your workspace' }).waitFor();
  });
});
