import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { InboundSmtpServer } from '../src/modules/inbound/inbound-smtp.server';
import { createTestApp, createWorkspace, eventually, type TestApp, type Workspace } from './support/app';
import { launchBrowser, listenOnLoopback, type TestBrowser } from './support/browser';
import { deliverReport, FIXTURE_RETURN_PATH, reportFixture } from './support/reports';
import { type SmtpSink, startSmtpSink } from './support/smtp-sink';

/**
 * `npm run screenshots`: the dashboard's main pages at a laptop and a phone
 * width, into docs/screenshots/ (shown in the README). Not part of `npm test`:
 * it seeds a workspace with a little of everything through the API (a real
 * app on PostgreSQL and Redis, delivering to an SMTP sink that refuses some
 * recipients), then photographs each page in Debian's Chromium.
 */
const OUT = join(__dirname, '..', 'docs', 'screenshots');
const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};

jest.setTimeout(180_000);

describe('dashboard screenshots', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let receiver: Server;
  let browser: TestBrowser;
  let base: string;
  let ws: Workspace;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await mkdir(OUT, { recursive: true });
    receiver = createServer((req, res) => {
      req.resume();
      res.writeHead(req.url?.includes('legacy') ? 410 : 204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sink = await startSmtpSink();
    sink.setRcptHandler((address) => {
      if (address.startsWith('old.'))
        return {
          code: 550,
          message:
            '5.1.1 <' + address + '>: Recipient address rejected: User unknown in virtual mailbox table',
        };
      if (address.startsWith('greylist'))
        return { code: 451, message: '4.7.1 Greylisted, please try again in 300 seconds' };
      return undefined;
    });
    t = await createTestApp({
      SMTP_URL: sink.url,
      DELIVERY_BACKOFF_MS: '3600000',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      BOUNCE_DOMAIN: 'bounces.acme.example',
      BOUNCE_SIGNING_KEY: 'screenshots-signing-key-0123456789abcdef',
      INBOUND_SMTP_PORT: '0',
    });
    base = await listenOnLoopback(t.app);
    ws = await createWorkspace(t);
    await seed();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sink?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  async function seed(): Promise<void> {
    const domain = await ws.api('post', '/v1/domains').send({ name: 'mail.acme.example' }).expect(201);
    ids.domain = domain.body.data.id;
    await t.admin('post', `/admin/v1/domains/${ids.domain}/verify`).expect(200);
    await ws.api('post', '/v1/domains').send({ name: 'news.acme.example' }).expect(201);
    const billing = await ws
      .api('post', '/v1/addresses')
      .send({ email: 'billing@mail.acme.example', name: 'Acme Billing' })
      .expect(201);
    await ws
      .api('post', '/v1/addresses')
      .send({ email: 'no-reply@mail.acme.example', name: 'Acme' })
      .expect(201);
    await ws
      .api('post', '/v1/contacts')
      .send({
        email: 'ada@example.com',
        first_name: 'Ada',
        last_name: 'Lovelace',
        delivery_address_id: billing.body.data.id,
      })
      .expect(201);
    await ws
      .api('post', '/v1/contacts')
      .send({ email: 'grace@example.com', first_name: 'Grace', last_name: 'Hopper' })
      .expect(201);
    await ws.api('post', '/v1/suppressions').send({ email: 'unsubscribed@example.org' }).expect(201);
    await ws.api('post', '/v1/api-keys').send({ name: 'production server' }).expect(201);
    await ws.api('post', '/v1/api-keys').send({ name: 'staging', mode: 'test' }).expect(201);

    // Webhooks (SPEC §12) before the sends, so the endpoint receives their events.
    const { port } = receiver.address() as { port: number };
    const webhook = await ws
      .api('post', '/v1/webhooks')
      .send({ url: `http://localhost:${port}/webhooks/leadpush` });
    if (webhook.status === 201) {
      ids.webhook = webhook.body.data.id;
      await ws
        .api('post', '/v1/webhooks')
        .send({ url: `http://localhost:${port}/legacy`, events: ['message.bounced', 'message.complained'] })
        .expect(201);
    }

    const send = (to: string, subject: string, tag: string, extra: Record<string, unknown> = {}) =>
      ws
        .api('post', '/v1/emails')
        .send({
          from: 'no-reply@mail.acme.example',
          to: [to],
          subject,
          html: '<p>Hello</p>',
          headers: { 'X-Leadpush-Tag': tag },
          ...extra,
        })
        .expect(202)
        .then((res) => res.body.data.messages[0].uuid as string);
    await send('ada@example.com', 'Your receipt #1042', 'receipt', {
      attachments: [
        { filename: 'receipt-1042.pdf', content: Buffer.from('%PDF-1.4 receipt').toString('base64') },
      ],
    });
    await send('grace@example.com', 'Reset your password', 'password-reset');
    await send('old.address@example.net', 'Your sign-in code is 481 220', 'otp');
    ids.bounced = await send('nobody@example.org', 'Your order has shipped', 'shipping');
    await send('greylist@example.net', 'Welcome to Acme', 'welcome');
    await send('unsubscribed@example.org', 'Your weekly summary', 'digest');
    await send('lin@example.com', 'Your trial ends in 3 days', 'trial', {
      scheduled_at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await send('sam@example.com', 'Invoice 2026-11 is ready', 'receipt');
    await eventually(
      async () => {
        const { body } = await ws.api('get', '/v1/messages').expect(200);
        const statuses = body.data.map((m: { status: string }) => m.status);
        return !statuses.some((s: string) => s === 'pending' || s === 'sending');
      },
      { what: 'deliveries to settle' },
    );
    // The relay said 250, then its bounce report (RFC 3464) arrives at the message's return path.
    const delivered = await eventually(async () =>
      sink.messages.find((m) => m.envelopeTo.includes('nobody@example.org')),
    );
    const report = reportFixture('postfix-user-unknown.eml', [[FIXTURE_RETURN_PATH, delivered.envelopeFrom]]);
    await deliverReport(t.app.get(InboundSmtpServer).port()!, { to: [delivered.envelopeFrom], raw: report });
    await eventually(
      async () =>
        (await ws.api('get', `/v1/messages/${ids.bounced}`).expect(200)).body.data.status === 'bounced',
      { what: 'the bounce report to be applied' },
    );
  }

  async function shoot(page: Page, name: string, kind: keyof typeof VIEWPORTS): Promise<void> {
    await page.waitForLoadState('networkidle');
    await page.evaluate('document.fonts.ready');
    await page.screenshot({
      path: join(OUT, `${name}-${kind}.png`),
      fullPage: kind === 'phone' ? false : true,
    });
  }

  for (const kind of Object.keys(VIEWPORTS) as (keyof typeof VIEWPORTS)[]) {
    it(`photographs the main pages at ${kind} width`, async () => {
      const page = await browser.newPage(VIEWPORTS[kind]);
      page.setDefaultTimeout(10_000);
      await page.goto(`${base}/dashboard/`);
      await shoot(page, 'sign-in', kind);
      await page.getByLabel('API key').fill(ws.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('message-row').first().waitFor();
      await shoot(page, 'messages', kind);

      await page.goto(`${base}/dashboard/messages/${ids.bounced}`);
      await page.getByTestId('timeline').getByText('bounced', { exact: true }).waitFor();
      await shoot(page, 'message', kind);

      await page.goto(`${base}/dashboard/domains/${ids.domain}`);
      await page.getByTestId('dns-record').first().waitFor();
      await page.getByText('billing@mail.acme.example').first().waitFor();
      await shoot(page, 'domain', kind);

      for (const [path, ready, name] of [
        ['/contacts', 'ada@example.com', 'contacts'],
        ['/suppressions', 'unsubscribed@example.org', 'suppressions'],
        ['/api-keys', 'production server', 'api-keys'],
      ]) {
        await page.goto(`${base}/dashboard${path}`);
        await page.getByText(ready, { exact: true }).first().waitFor();
        await shoot(page, name, kind);
      }
      if (ids.webhook) {
        await page.goto(`${base}/dashboard/webhooks`);
        await page.getByTestId('webhook-row').first().waitFor();
        await shoot(page, 'webhooks', kind);
        await page.goto(`${base}/dashboard/webhooks/${ids.webhook}`);
        await page.getByText('HTTP 204').first().waitFor();
        await shoot(page, 'webhook', kind);
      }
      await page.close();
    });
  }
});
