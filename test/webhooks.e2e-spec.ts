import { Client } from 'pg';
import { WebhookSender } from '../src/modules/webhooks/webhook-sender';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender, settledMessage } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import {
  ReceivedWebhook,
  startWebhookReceiver,
  verifyWebhook,
  WebhookReceiver,
} from './support/webhook-receiver';

const ENCRYPTION_KEY = 'cd'.repeat(32);
const SCHEDULE_MS = [300, 600];
const TIMEOUT_MS = 500;

const ALL_TYPES = [
  'message.scheduled',
  'message.pending',
  'message.sending',
  'message.sent',
  'message.deferred',
  'message.bounced',
  'message.failed',
  'message.suppressed',
  'message.canceled',
  'message.complained',
  'message.delayed',
];

interface Attempt {
  id: string;
  event_id: string;
  type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  at: string;
  next_attempt_at: string | null;
  outcome: string;
}

describe('webhooks (SPEC §12)', () => {
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
      DKIM_ENCRYPTION_KEY: ENCRYPTION_KEY,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_SCHEDULE: SCHEDULE_MS.map((ms) => `${ms}ms`).join(','),
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      SWEEP_INTERVAL_MS: '500',
      SWEEP_GRACE_MS: '1000',
    });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    await smtp.close();
  });

  async function subscribe(path: string, events?: string[], on: Workspace = ws) {
    const res = await on
      .api('post', '/v1/webhooks')
      .send({ url: receiver.url(path), ...(events ? { events } : {}) })
      .expect(201);
    return res.body.data as { id: string; secret: string; url: string; events: string[]; enabled: boolean };
  }

  async function send(
    to: string[],
    subject = 'hello',
    on: Workspace = ws,
    from = sender.email,
  ): Promise<string[]> {
    const res = await on.api('post', '/v1/emails').send({ from, to, subject, text: 'x' }).expect(202);
    return res.body.data.messages.map((m: { uuid: string }) => m.uuid);
  }

  async function attempts(endpointId: string, on: Workspace = ws): Promise<Attempt[]> {
    const all: Attempt[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: Attempt[]; next_cursor: string | null } } = await on
        .api('get', `/v1/webhooks/${endpointId}/deliveries`)
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .expect(200);
      all.push(...res.body.data);
      cursor = res.body.next_cursor;
    } while (cursor);
    return all;
  }

  const bodyOf = (request: ReceivedWebhook) => JSON.parse(request.body);

  describe('endpoints', () => {
    it('creates an endpoint with a secret shown once, stored sealed, and never answered again', async () => {
      const created = await ws
        .api('post', '/v1/webhooks')
        .send({ url: receiver.url('/crud') })
        .expect(201);
      const hook = created.body.data;
      expect(Object.keys(hook).sort()).toEqual(['created_at', 'enabled', 'events', 'id', 'secret', 'url']);
      expect(hook).toMatchObject({ url: receiver.url('/crud'), events: ALL_TYPES, enabled: true });
      expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(hook.secret.slice(6), 'base64')).toHaveLength(32);

      const { rows } = await t.db.query('SELECT secret FROM webhook_endpoints WHERE id = $1', [hook.id]);
      expect(rows[0].secret).toMatch(/^v1:/);
      expect(rows[0].secret).not.toContain(hook.secret.slice(6, 30));

      const answers = [
        await ws.api('get', `/v1/webhooks/${hook.id}`).expect(200),
        await ws.api('get', '/v1/webhooks').expect(200),
        await ws
          .api('patch', `/v1/webhooks/${hook.id}`)
          .send({ events: ['message.sent'] })
          .expect(200),
        await ws.api('get', `/v1/webhooks/${hook.id}/deliveries`).expect(200),
      ];
      for (const answer of answers) {
        expect(answer.text).not.toContain(hook.secret.slice(6));
        expect(answer.text).not.toContain('"secret"');
      }
      expect(answers[0].body.data).toEqual({ ...hook, secret: undefined, events: ALL_TYPES });
      expect(answers[1].body.data.map((h: { id: string }) => h.id)).toContain(hook.id);
      expect(answers[2].body.data.events).toEqual(['message.sent']);
      expect(answers[3].body).toEqual({ data: [], next_cursor: null });
    });

    it('lists newest first with a cursor, changes, disables and deletes', async () => {
      const other = await createWorkspace(t);
      const a = await subscribe('/list-a', ['message.sent'], other);
      const b = await subscribe('/list-b', ['message.bounced', 'message.sent', 'message.sent'], other);
      expect(b.events).toEqual(['message.sent', 'message.bounced']);
      const first = await other.api('get', '/v1/webhooks').query({ limit: 1 }).expect(200);
      expect(first.body.data.map((h: { id: string }) => h.id)).toEqual([b.id]);
      const second = await other
        .api('get', '/v1/webhooks')
        .query({ limit: 1, cursor: first.body.next_cursor })
        .expect(200);
      expect(second.body).toEqual({ data: [expect.objectContaining({ id: a.id })], next_cursor: null });

      const patched = await other
        .api('patch', `/v1/webhooks/${a.id}`)
        .send({ url: receiver.url('/list-a2'), enabled: false })
        .expect(200);
      expect(patched.body.data).toMatchObject({
        url: receiver.url('/list-a2'),
        enabled: false,
        events: ['message.sent'],
      });
      await other.api('delete', `/v1/webhooks/${a.id}`).expect(204);
      await other.api('get', `/v1/webhooks/${a.id}`).expect(404);
      await other.api('delete', `/v1/webhooks/${a.id}`).expect(404);
    });

    it("deleting an endpoint deletes its deliveries and their attempts, and no other endpoint's", async () => {
      const gone = await subscribe('/deleted', ['message.sent']);
      const kept = await subscribe('/kept', ['message.sent']);
      await send(['deleted-endpoint@example.com']);
      await eventually(
        async () => (await attempts(gone.id)).length > 0 && (await attempts(kept.id)).length > 0,
        {
          what: 'an attempt to each endpoint',
        },
      );
      await ws.api('delete', `/v1/webhooks/${gone.id}`).expect(204);
      const left = async (endpointId: string) => {
        const { rows } = await t.db.query(
          `SELECT (SELECT count(*)::int FROM webhook_deliveries WHERE endpoint_id = $1) AS deliveries,
                  (SELECT count(*)::int FROM webhook_attempts WHERE endpoint_id = $1) AS attempts`,
          [endpointId],
        );
        return rows[0];
      };
      expect(await left(gone.id)).toEqual({ deliveries: 0, attempts: 0 });
      expect(await left(kept.id)).toEqual({ deliveries: 1, attempts: expect.any(Number) });
      expect((await left(kept.id)).attempts).toBeGreaterThan(0);
      await ws.api('delete', `/v1/webhooks/${kept.id}`).expect(204);
    });

    it("answers 404 for another workspace's endpoint and for malformed ids, changing nothing", async () => {
      const other = await createWorkspace(t);
      const theirs = await subscribe('/theirs', ['message.sent'], other);
      for (const id of [theirs.id, 'not-a-uuid', '00000000-0000-0000-0000-000000000000']) {
        const answers = [
          await ws.api('get', `/v1/webhooks/${id}`),
          await ws.api('patch', `/v1/webhooks/${id}`).send({ enabled: false }),
          await ws.api('delete', `/v1/webhooks/${id}`),
          await ws.api('get', `/v1/webhooks/${id}/deliveries`),
        ];
        for (const answer of answers) expect(answer.body).toMatchObject({ error: 'not_found' });
      }
      const mine = await ws.api('get', '/v1/webhooks').query({ limit: 100 }).expect(200);
      expect(mine.body.data.map((h: { id: string }) => h.id)).not.toContain(theirs.id);
      const still = await other.api('get', `/v1/webhooks/${theirs.id}`).expect(200);
      expect(still.body.data.enabled).toBe(true);
    });

    it.each([
      ['no url', {}, 'url'],
      ['a url that is not a string', { url: 42 }, 'url'],
      ['a relative url', { url: '/hooks' }, 'url'],
      ['an ftp url', { url: 'ftp://example.com/x' }, 'url'],
      ['a javascript url', { url: 'javascript:alert(1)' }, 'url'],
      ['a url over 2048 characters', { url: `https://example.com/${'a'.repeat(2030)}` }, 'url'],
      ['an unknown event type', { url: 'https://example.com/x', events: ['message.opened'] }, 'events'],
      ['a bare event type', { url: 'https://example.com/x', events: ['sent'] }, 'events'],
      ['empty events', { url: 'https://example.com/x', events: [] }, 'events'],
      ['events that are not a list', { url: 'https://example.com/x', events: 'message.sent' }, 'events'],
      ['null events', { url: 'https://example.com/x', events: null }, 'events'],
      ['an unknown field', { url: 'https://example.com/x', secret: 'whsec_mine' }, 'secret'],
      ['a lone surrogate', { url: 'https://example.com/\ud800' }, 'url'],
    ])('refuses %s with 422 naming the field', async (_, body, field) => {
      const before = await t.db.query('SELECT count(*)::int AS n FROM webhook_endpoints');
      const res = await ws.api('post', '/v1/webhooks').send(body).expect(422);
      expect(res.body.error).toBe('validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      const after = await t.db.query('SELECT count(*)::int AS n FROM webhook_endpoints');
      expect(after.rows[0].n).toBe(before.rows[0].n);
    });

    it('refuses a bad PATCH with 422 and keeps the endpoint as it was', async () => {
      const hook = await subscribe('/patch', ['message.sent']);
      for (const body of [
        { enabled: 'no' },
        { events: ['message.nope'] },
        { url: 'gopher://x' },
        { url: null },
        { id: 'x' },
      ]) {
        const res = await ws.api('patch', `/v1/webhooks/${hook.id}`).send(body).expect(422);
        expect(res.body.error).toBe('validation_failed');
      }
      const now = await ws.api('get', `/v1/webhooks/${hook.id}`).expect(200);
      expect(now.body.data).toMatchObject({
        url: receiver.url('/patch'),
        events: ['message.sent'],
        enabled: true,
      });
    });
  });

  describe('deliveries', () => {
    it('posts each subscribed event, signed per Standard Webhooks, with the payload of SPEC §12', async () => {
      const sentOnly = await subscribe('/sent', ['message.sent']);
      const everything = await subscribe('/all');
      const [first, second] = await send(['one@example.test', 'two@example.test'], 'Webhooks, signed');
      await settledMessage(ws, first, 'sent');
      await settledMessage(ws, second, 'sent');
      await eventually(async () => receiver.at('/sent').length >= 2 && receiver.at('/all').length >= 6, {
        what: 'the webhooks of two sent messages',
      });

      for (const request of receiver.at('/sent')) verifyWebhook(request, sentOnly.secret);
      for (const request of receiver.at('/all')) verifyWebhook(request, everything.secret);
      expect(() => verifyWebhook(receiver.at('/sent')[0], everything.secret)).toThrow();

      const request = receiver.at('/sent').find((r) => bodyOf(r).data.message.uuid === first)!;
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['webhook-id']).toMatch(/^evt_\d+$/);
      const timestamp = Number(request.headers['webhook-timestamp']);
      expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);

      const message = (await ws.api('get', `/v1/messages/${first}`).expect(200)).body.data;
      const sentEvent = message.events.find((e: { type: string }) => e.type === 'sent');
      expect(bodyOf(request)).toEqual({
        type: 'message.sent',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        data: {
          message: {
            uuid: first,
            recipient: 'one@example.test',
            type: 'to',
            from: sender.email,
            subject: 'Webhooks, signed',
            status: 'sent',
            tag: null,
            contact_id: null,
          },
          event: { ...sentEvent, at: expect.any(String) },
        },
      });
      // The times as ISO 8601 in UTC, to the millisecond: the event's own time.
      const eventTime = new Date(sentEvent.at).getTime();
      expect(new Date(bodyOf(request).timestamp).getTime()).toBe(eventTime);
      expect(new Date(bodyOf(request).data.event.at).getTime()).toBe(eventTime);
      expect(Object.keys(JSON.parse(request.body))).toEqual(['type', 'timestamp', 'data']);

      const types = receiver
        .at('/all')
        .filter((r) => bodyOf(r).data.message.uuid === first)
        .map((r) => bodyOf(r).type);
      expect(types.sort()).toEqual(['message.pending', 'message.sending', 'message.sent']);
      const all = receiver.at('/all').filter((r) => bodyOf(r).data.message.uuid === first);
      expect(all.find((r) => bodyOf(r).type === 'message.pending')!.headers['webhook-id']).not.toBe(
        request.headers['webhook-id'],
      );
      expect(all.find((r) => bodyOf(r).type === 'message.sent')!.headers['webhook-id']).toBe(
        request.headers['webhook-id'],
      );

      // The worker records an attempt once the receiver has answered: the
      // receiver can hold a request before its attempt is in the log.
      const log = await eventually(
        async () => {
          const all = await attempts(sentOnly.id);
          return all.length >= 2 && all;
        },
        { what: 'two recorded attempts' },
      );
      expect(log).toHaveLength(2);
      for (const attempt of log) {
        expect(attempt).toMatchObject({
          type: 'message.sent',
          attempt: 1,
          status_code: 200,
          error: null,
          outcome: 'success',
          next_attempt_at: null,
        });
      }
      expect(log.map((a) => a.event_id).sort()).toEqual(
        receiver
          .at('/sent')
          .map((r) => r.headers['webhook-id'])
          .sort(),
      );
      expect(new Date(log[0].at).getTime()).toBeGreaterThanOrEqual(new Date(log[1].at).getTime());
    });

    it('retries with the same webhook-id and body after each delay of the schedule until a 2xx', async () => {
      const hook = await subscribe('/flaky', ['message.sent']);
      receiver.answer('/flaky', (n) => ({ status: n < 2 ? 500 : 204 }));
      await send(['flaky@example.test']);
      await eventually(async () => receiver.at('/flaky').length >= 3, { what: 'three attempts' });
      await eventually(async () => (await attempts(hook.id)).length === 3, {
        what: 'three recorded attempts',
      });
      const requests = receiver.at('/flaky');
      expect(requests).toHaveLength(3);
      for (const request of requests) verifyWebhook(request, hook.secret);
      expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
      expect(new Set(requests.map((r) => r.body)).size).toBe(1);
      // Each retry waits its delay, less at most the 10 % jitter; an upper bound would only measure the machine.
      expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(SCHEDULE_MS[0] * 0.9);
      expect(requests[2].at - requests[1].at).toBeGreaterThanOrEqual(SCHEDULE_MS[1] * 0.9);

      const log = await attempts(hook.id);
      expect(log.map((a) => [a.attempt, a.status_code, a.outcome, a.error])).toEqual([
        [3, 204, 'success', null],
        [2, 500, 'failure', 'HTTP 500'],
        [1, 500, 'failure', 'HTTP 500'],
      ]);
      expect(log[0].next_attempt_at).toBeNull();
      for (const failed of log.slice(1)) {
        const waited = new Date(failed.next_attempt_at!).getTime() - new Date(failed.at).getTime();
        const delay = SCHEDULE_MS[failed.attempt - 1];
        expect(waited).toBeGreaterThanOrEqual(delay * 0.9);
        expect(waited).toBeLessThanOrEqual(delay * 1.1 + TIMEOUT_MS);
      }
    });

    it('counts a 3xx as a failure without following it, and gives up after the last retry', async () => {
      const hook = await subscribe('/moved', ['message.sent']);
      receiver.answer('/moved', () => ({ status: 302, headers: { location: receiver.url('/moved-here') } }));
      await send(['moved@example.test']);
      await eventually(async () => (await attempts(hook.id)).length === 3, { what: 'three attempts' });
      const log = await attempts(hook.id);
      expect(log.map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
        [3, 302, 'gave_up'],
        [2, 302, 'failure'],
        [1, 302, 'failure'],
      ]);
      expect(log[0]).toMatchObject({ error: 'HTTP 302: redirects are not followed', next_attempt_at: null });
      await new Promise((resolve) => setTimeout(resolve, SCHEDULE_MS[1] * 2));
      expect(receiver.at('/moved')).toHaveLength(3);
      expect(receiver.at('/moved-here')).toHaveLength(0);
      const { rows } = await t.db.query('SELECT status FROM webhook_deliveries WHERE endpoint_id = $1', [
        hook.id,
      ]);
      expect(rows).toEqual([{ status: 'gave_up' }]);
      expect((await ws.api('get', `/v1/webhooks/${hook.id}`).expect(200)).body.data.enabled).toBe(true);
    });

    it('counts an answer slower than WEBHOOK_TIMEOUT_MS as a failure', async () => {
      const hook = await subscribe('/slow', ['message.sent']);
      receiver.answer('/slow', (n) => (n === 0 ? { status: 200, delayMs: TIMEOUT_MS * 3 } : { status: 200 }));
      await send(['slow@example.test']);
      await eventually(async () => (await attempts(hook.id)).length === 2, { what: 'two attempts' });
      const log = await attempts(hook.id);
      expect(log.map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
        [2, 200, 'success'],
        [1, null, 'failure'],
      ]);
      expect(log[1].error).toBe(`timeout: no answer within ${TIMEOUT_MS} ms`);
    });

    it('posts to a URL by host name with its Host header and its credentials as Basic auth', async () => {
      const url = receiver.url('/named').replace('http://127.0.0.1', 'http://hook%20user:p%40ss@localhost');
      const res = await ws
        .api('post', '/v1/webhooks')
        .send({ url, events: ['message.sent'] })
        .expect(201);
      await send(['named@example.test']);
      await eventually(async () => receiver.at('/named').length >= 1, { what: 'a request to /named' });
      const [request] = receiver.at('/named');
      expect(request.headers.host).toBe(new URL(url).host);
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from('hook user:p@ss').toString('base64')}`);
      verifyWebhook(request, res.body.data.secret);
      await eventually(async () => (await attempts(res.body.data.id))[0]?.outcome === 'success', {
        what: 'the attempt recorded',
      });
    });
    it('records a refused connection as a failure', async () => {
      const closed = await startWebhookReceiver();
      const url = closed.url('/gone-away');
      await closed.close();
      const res = await ws
        .api('post', '/v1/webhooks')
        .send({ url, events: ['message.sent'] })
        .expect(201);
      await send(['refused@example.test']);
      await eventually(async () => (await attempts(res.body.data.id)).length >= 1, { what: 'an attempt' });
      const [first] = (await attempts(res.body.data.id)).reverse();
      expect(first).toMatchObject({ attempt: 1, status_code: null, outcome: 'failure' });
      expect(first.error).toMatch(/ECONNREFUSED/);
    });

    it('disables the endpoint on 410 and ends its retries', async () => {
      const hook = await subscribe('/gone', ['message.sent']);
      receiver.answer('/gone', () => ({ status: 410 }));
      await send(['gone@example.test']);
      await eventually(async () => (await attempts(hook.id)).length === 1, { what: 'the 410 attempt' });
      const [only] = await attempts(hook.id);
      expect(only).toMatchObject({
        attempt: 1,
        status_code: 410,
        outcome: 'disabled',
        next_attempt_at: null,
      });
      expect((await ws.api('get', `/v1/webhooks/${hook.id}`).expect(200)).body.data.enabled).toBe(false);

      const [later] = await send(['after-gone@example.test']);
      await settledMessage(ws, later, 'sent');
      const probe = await subscribe('/gone-probe', ['message.sent']);
      const [probed] = await send(['probe@example.test']);
      await eventually(
        async () => receiver.at('/gone-probe').some((r) => bodyOf(r).data.message.uuid === probed),
        {
          what: 'a later event dispatched',
        },
      );
      await new Promise((resolve) => setTimeout(resolve, SCHEDULE_MS[1]));
      expect(receiver.at('/gone')).toHaveLength(1);
      expect(await attempts(hook.id)).toHaveLength(1);
      verifyWebhook(receiver.at('/gone-probe')[0], probe.secret);
    });

    it('never crosses workspaces, and an endpoint created after an event does not get it', async () => {
      const other = await createWorkspace(t);
      const otherSender = await createSender(t, other);
      const mine = await subscribe('/mine', ['message.sent']);
      const theirs = await subscribe('/theirs-events', ['message.sent'], other);

      const [early] = await send(['early@example.test']);
      await settledMessage(ws, early, 'sent');
      const late = await subscribe('/late', ['message.sent', 'message.pending']);
      const [after] = await send(['after@example.test']);
      const [otherMessage] = await send(['their@example.test'], 'theirs', other, otherSender.email);

      await eventually(
        async () =>
          receiver.at('/late').some((r) => bodyOf(r).type === 'message.sent') &&
          receiver.at('/mine').length >= 2 &&
          receiver.at('/theirs-events').length >= 1,
        { what: 'the events of both workspaces' },
      );
      const uuids = (path: string) => receiver.at(path).map((r) => bodyOf(r).data.message.uuid);
      expect(uuids('/mine').sort()).toEqual([early, after].sort());
      expect(uuids('/theirs-events')).toEqual([otherMessage]);
      expect(new Set(uuids('/late'))).toEqual(new Set([after]));
      expect(
        receiver
          .at('/late')
          .map((r) => bodyOf(r).type)
          .sort(),
      ).toEqual(['message.pending', 'message.sent']);
      for (const r of receiver.at('/theirs-events')) verifyWebhook(r, theirs.secret);
      for (const r of receiver.at('/late')) verifyWebhook(r, late.secret);

      const theirLog = await eventually(
        async () => {
          const log = await attempts(theirs.id, other);
          return log.length >= receiver.at('/theirs-events').length && log;
        },
        { what: 'their attempts recorded' },
      );
      expect(theirLog.map((a) => a.event_id)).toEqual(
        receiver.at('/theirs-events').map((r) => r.headers['webhook-id']),
      );
      await other.api('get', `/v1/webhooks/${mine.id}/deliveries`).expect(404);
    });
    it('posts a stored delivery whose job never reached Redis: the sweeper queues it from the table', async () => {
      const hook = await subscribe('/swept', ['message.bounced']);
      const [uuid] = await send(['swept@example.test']);
      await settledMessage(ws, uuid, 'sent');
      const event = await t.db.query(
        `SELECT id::text FROM message_events WHERE message_id = $1 AND type = 'sent'`,
        [uuid],
      );
      // As the dispatcher stores it when Redis is down: the row, and no job.
      await t.db.query(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload) VALUES ($1, $2, 'message.sent', $3)`,
        [hook.id, event.rows[0].id, '{"stored":"without a job"}'],
      );
      await eventually(async () => receiver.at('/swept').length >= 1, { what: 'the swept delivery' });
      const [request] = receiver.at('/swept');
      expect(request.body).toBe('{"stored":"without a job"}');
      expect(request.headers['webhook-id']).toBe(`evt_${event.rows[0].id}`);
      verifyWebhook(request, hook.secret);
      await eventually(async () => (await attempts(hook.id))[0]?.outcome === 'success', {
        what: 'its success recorded',
      });
    });
  });

  it('makes an attempt once however many workers take its job at the same time', async () => {
    const hook = await subscribe('/once', ['message.bounced']);
    const [uuid] = await send(['once@example.test']);
    await settledMessage(ws, uuid, 'sent');
    const { rows } = await t.db.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload)
       SELECT $1, id, 'message.sent', '{"once":true}' FROM message_events WHERE message_id = $2 AND type = 'sent'
       RETURNING id`,
      [hook.id, uuid],
    );
    receiver.answer('/once', () => ({ status: 200, delayMs: 100 }));
    const sender = t.app.get(WebhookSender, { strict: false });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => sender.attempt(rows[0].id)));
    expect(outcomes.filter((o) => o !== null)).toEqual(['success']);
    expect(receiver.at('/once')).toHaveLength(1);
    expect(await attempts(hook.id)).toEqual([expect.objectContaining({ attempt: 1, outcome: 'success' })]);
  });

  describe('the outbox under concurrent transactions', () => {
    it('loses no event whose transaction took a lower id and committed after a higher one', async () => {
      const hook = await subscribe('/outbox', ['message.delayed']);
      const [uuid] = await send(['outbox@example.test']);
      await settledMessage(ws, uuid, 'sent');
      const insert = `INSERT INTO message_events (message_id, workspace_id, type, detail)
                      VALUES ($1, $2, 'delayed', $3) RETURNING id::text`;
      const held = new Client({ connectionString: t.config.databaseUrl });
      await held.connect();
      try {
        await held.query('BEGIN');
        const low = (await held.query(insert, [uuid, ws.workspaceId, { which: 'low' }])).rows[0].id;
        const high = (await t.db.query(insert, [uuid, ws.workspaceId, { which: 'high' }])).rows[0].id;
        expect(Number(low)).toBeLessThan(Number(high));
        // The committed higher id waits behind the open transaction: it is older than nothing the snapshot can vouch for.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(receiver.at('/outbox')).toHaveLength(0);
        await held.query('COMMIT');

        await eventually(async () => receiver.at('/outbox').length >= 2, { what: 'both delayed events' });
        const ids = receiver.at('/outbox').map((r) => r.headers['webhook-id']);
        expect(ids.sort()).toEqual([`evt_${low}`, `evt_${high}`].sort());
        expect(
          receiver
            .at('/outbox')
            .map((r) => bodyOf(r).data.event.detail.which)
            .sort(),
        ).toEqual(['high', 'low']);
        for (const r of receiver.at('/outbox')) verifyWebhook(r, hook.secret);
      } finally {
        await held.end();
      }
    });

    it('skips a rolled-back event and goes on', async () => {
      const hook = await subscribe('/rolled-back', ['message.delayed']);
      const [uuid] = await send(['rollback@example.test']);
      await settledMessage(ws, uuid, 'sent');
      await t.db.query('BEGIN');
      await t.db.query(
        `INSERT INTO message_events (message_id, workspace_id, type, detail) VALUES ($1, $2, 'delayed', '{"kept": false}')`,
        [uuid, ws.workspaceId],
      );
      await t.db.query('ROLLBACK');
      await t.db.query(
        `INSERT INTO message_events (message_id, workspace_id, type, detail) VALUES ($1, $2, 'delayed', '{"kept": true}')`,
        [uuid, ws.workspaceId],
      );
      await eventually(async () => receiver.at('/rolled-back').length >= 1, { what: 'the kept event' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.at('/rolled-back').map((r) => bodyOf(r).data.event.detail)).toEqual([{ kept: true }]);
      verifyWebhook(receiver.at('/rolled-back')[0], hook.secret);
    });
  });
});
