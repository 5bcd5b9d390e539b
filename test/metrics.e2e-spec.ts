import { createTransport } from 'nodemailer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { parseMetrics, Sample, valueOf } from './support/prometheus';
import { createSender, Sender, settledMessage } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import { startWebhookReceiver, WebhookReceiver } from './support/webhook-receiver';
import { SmtpRelayServer } from '../src/modules/smtp-relay/smtp-relay.server';

const METRICS_TOKEN = 'metrics-token-0123456789';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('GET /metrics', () => {
  describe('without METRICS_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t.close());

    it('does not exist: 404 in the error envelope, with a token or without', async () => {
      const res = await t.http.get('/metrics').expect(404);
      expect(res.body).toMatchObject({ error: 'not_found' });
      await t.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(404);
    });
  });

  describe('with METRICS_TOKEN', () => {
    let smtp: SmtpSink;
    let receiver: WebhookReceiver;
    let t: TestApp;
    let ws: Workspace;
    let sender: Sender;

    beforeAll(async () => {
      smtp = await startSmtpSink();
      receiver = await startWebhookReceiver();
      t = await createTestApp({
        METRICS_TOKEN,
        SMTP_URL: smtp.url,
        SMTP_RELAY_PORT: '0',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_DISPATCH_INTERVAL_MS: '50',
        WEBHOOK_RETRY_SCHEDULE: '100ms',
      });
      ws = await createWorkspace(t);
      sender = await createSender(t, ws);
    });
    afterAll(async () => {
      await t.close();
      await receiver.close();
      await smtp.close();
    });

    const scrape = async (): Promise<{ text: string; samples: Sample[] }> => {
      const res = await t.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      return { text: res.text, samples: parseMetrics(res.text) };
    };

    it('answers 401 without the token or with a wrong one', async () => {
      for (const header of [
        undefined,
        `Bearer ${METRICS_TOKEN}x`,
        'Bearer wrong',
        `Basic ${METRICS_TOKEN}`,
      ]) {
        const req = t.http.get('/metrics');
        const res = await (header ? req.set('Authorization', header) : req).expect(401);
        expect(res.body).toMatchObject({ error: 'unauthorized' });
      }
    });

    it('serves every metric of SPEC §15 and the Node.js process metrics', async () => {
      const { text, samples } = await scrape();
      for (const [name, type] of [
        ['leadpush_http_requests_total', 'counter'],
        ['leadpush_http_request_duration_seconds', 'histogram'],
        ['leadpush_messages_accepted_total', 'counter'],
        ['leadpush_message_events_total', 'counter'],
        ['leadpush_delivery_duration_seconds', 'histogram'],
        ['leadpush_queue_jobs', 'gauge'],
        ['leadpush_webhook_deliveries_total', 'counter'],
        ['process_cpu_user_seconds_total', 'counter'],
        ['nodejs_heap_size_used_bytes', 'gauge'],
      ]) {
        expect(text).toContain(`# TYPE ${name} ${type}`);
      }
      for (const queue of ['delivery', 'webhooks', 'inbound']) {
        for (const state of ['waiting', 'active', 'delayed', 'failed']) {
          expect(
            samples.some(
              (s) => s.name === 'leadpush_queue_jobs' && s.labels.queue === queue && s.labels.state === state,
            ),
          ).toBe(true);
        }
      }
    });

    it('has a Grafana dashboard (deploy/grafana) that queries only metrics served here', async () => {
      const dashboard = readFileSync(join(__dirname, '..', 'deploy', 'grafana', 'leadpush.json'), 'utf8');
      const { text } = await scrape();
      const served = new Set(
        [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
          type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name],
        ),
      );
      const used = new Set(
        [...dashboard.matchAll(/\b((?:leadpush|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]),
      );
      expect(used.size).toBeGreaterThan(8);
      expect([...used].filter((name) => !served.has(name))).toEqual([]);
    });

    it('counts a send and its delivery, with route patterns as labels and no id in any label', async () => {
      const before = (await scrape()).samples;
      const res = await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: ['one@example.test', 'two@example.test'], subject: 'Hi', text: 'x' })
        .expect(202);
      const [first, second] = res.body.data.messages.map((m: { uuid: string }) => m.uuid);
      await settledMessage(ws, first);
      await settledMessage(ws, second);
      await t.http.get(`/v1/messages/${first}`).expect(401);
      await ws.api('get', `/v1/messages/${first}x`).expect(404);
      await t.http.get(`/nothing/here/${first}`).expect(404);

      const after = await eventually(
        async () => {
          const { samples } = await scrape();
          return valueOf(samples, 'leadpush_message_events_total', { type: 'sent' }) -
            valueOf(before, 'leadpush_message_events_total', { type: 'sent' }) >=
            2
            ? samples
            : null;
        },
        { what: 'the sent events to be counted' },
      );
      const rise = (name: string, labels: Record<string, string> = {}) =>
        valueOf(after, name, labels) - valueOf(before, name, labels);

      expect(rise('leadpush_messages_accepted_total', { source: 'api' })).toBe(2);
      expect(rise('leadpush_message_events_total', { type: 'pending' })).toBe(2);
      expect(rise('leadpush_message_events_total', { type: 'sending' })).toBe(2);
      expect(rise('leadpush_message_events_total', { type: 'sent' })).toBe(2);
      expect(rise('leadpush_delivery_duration_seconds_count', { outcome: 'sent' })).toBe(2);
      expect(rise('leadpush_delivery_duration_seconds_bucket', { outcome: 'sent', le: '+Inf' })).toBe(2);
      expect(
        rise('leadpush_http_requests_total', { method: 'POST', route: '/v1/emails', status: '202' }),
      ).toBe(1);
      expect(
        rise('leadpush_http_request_duration_seconds_count', { method: 'POST', route: '/v1/emails' }),
      ).toBe(1);
      expect(
        rise('leadpush_http_requests_total', { method: 'GET', route: '/v1/messages/:uuid', status: '200' }),
      ).toBeGreaterThanOrEqual(2);
      // Refused by the API key middleware before routing, and unknown ids: still the route's pattern.
      expect(
        rise('leadpush_http_requests_total', { method: 'GET', route: '/v1/messages/:uuid', status: '401' }),
      ).toBe(1);
      expect(
        rise('leadpush_http_requests_total', { method: 'GET', route: '/v1/messages/:uuid', status: '404' }),
      ).toBe(1);
      expect(rise('leadpush_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(
        1,
      );

      const labelValues = after.flatMap((s) => Object.values(s.labels));
      expect(labelValues.filter((v) => UUID.test(v) || v.includes('@') || v.includes('/nothing'))).toEqual(
        [],
      );
      const routes = new Set(
        after.filter((s) => s.name === 'leadpush_http_requests_total').map((s) => s.labels.route),
      );
      expect([...routes].every((r) => r === 'unmatched' || r.startsWith('/'))).toBe(true);
    });

    it('counts webhook attempts by outcome', async () => {
      receiver.answer('/flaky', (n) => ({ status: n === 0 ? 500 : 204 }));
      receiver.answer('/gone', () => ({ status: 410 }));
      for (const path of ['/flaky', '/gone']) {
        await ws
          .api('post', '/v1/webhooks')
          .send({ url: receiver.url(path), events: ['message.sent'] })
          .expect(201);
      }
      const before = (await scrape()).samples;
      const res = await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: ['hooked@example.test'], subject: 'Hi', text: 'x' })
        .expect(202);
      await settledMessage(ws, res.body.data.messages[0].uuid);
      const rise = (samples: Sample[], outcome: string) =>
        valueOf(samples, 'leadpush_webhook_deliveries_total', { outcome }) -
        valueOf(before, 'leadpush_webhook_deliveries_total', { outcome });
      const after = await eventually(
        async () => {
          const { samples } = await scrape();
          return rise(samples, 'success') >= 1 && rise(samples, 'disabled') >= 1 ? samples : null;
        },
        { what: 'the webhook attempts to be counted' },
      );
      expect(rise(after, 'failure')).toBe(1);
      expect(rise(after, 'success')).toBe(1);
      expect(rise(after, 'disabled')).toBe(1);
      expect(rise(after, 'gave_up')).toBe(0);
    });

    it('counts what the SMTP relay accepts as source smtp', async () => {
      const before = (await scrape()).samples;
      const relay = createTransport({
        host: '127.0.0.1',
        port: t.app.get(SmtpRelayServer).port() as number,
        secure: false,
        ignoreTLS: true,
        auth: { user: 'metrics', pass: ws.token },
      });
      await relay.sendMail({ from: sender.email, to: 'relayed@example.test', subject: 'Relayed', text: 'x' });
      relay.close();
      const after = (await scrape()).samples;
      const rise = (labels: Record<string, string>) =>
        valueOf(after, 'leadpush_messages_accepted_total', labels) -
        valueOf(before, 'leadpush_messages_accepted_total', labels);
      expect(rise({ source: 'smtp' })).toBe(1);
      expect(rise({ source: 'api' })).toBe(0);
    });
  });
});
