import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import {
  createTestApp,
  createWorkspace,
  deleteKeys,
  dropDatabase,
  eventually,
  newDatabaseUrl,
  newQueuePrefix,
  TEST_REDIS_URL,
  TestApp,
  Workspace,
} from './support/app';
import { RedisServerHandle, startRedisServer } from './support/redis-server';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

interface Event {
  type: string;
  at: string;
  detail: Record<string, unknown>;
}

/** Fast clocks, so that waits stay short: release every 200 ms, sweep every 250 ms after a 1 s grace. */
const CLOCKS = { RELEASE_INTERVAL_MS: '200', SWEEP_INTERVAL_MS: '250', SWEEP_GRACE_MS: '1000' };
/** Longer than a release pass, a sweep and its grace: a second delivery would have started by now. */
const SETTLE_MS = 2000;

const sleepUntil = (at: number) => sleep(Math.max(0, at - Date.now()));
const types = (events: Event[]) => events.map((e) => e.type);

/** What a test needs to send scheduled mail through one app and watch the SMTP sink. */
function scheduling(get: () => { t: TestApp; ws: Workspace; sender: Sender; smtp: SmtpSink }) {
  const read = async (uuid: string) => {
    const { ws } = get();
    return (await ws.api('get', `/v1/messages/${uuid}`).expect(200)).body.data;
  };
  return {
    read,
    /** Sends to `recipients`, due `inMs` from now; answers the messages' uuids and the due time. */
    async schedule(recipients: string[], inMs: number) {
      const { ws, sender } = get();
      const at = new Date(Date.now() + inMs);
      const res = await ws
        .api('post', '/v1/emails')
        .send({
          from: sender.email,
          to: recipients,
          subject: 'Later',
          text: 'x',
          scheduled_at: at.toISOString(),
        })
        .expect(202);
      const uuids = (res.body.data.messages as { uuid: string; status: string }[]).map((m) => {
        expect(m.status).toBe('scheduled');
        return m.uuid;
      });
      return { uuids, at: at.getTime() };
    },
    receivedBy: (address: string) => get().smtp.messages.filter((m) => m.envelopeTo[0] === address).length,
    settled: (uuid: string, status: string) =>
      eventually(
        async () => {
          const message = await read(uuid);
          return message.status === status ? message : null;
        },
        { timeoutMs: 20000, what: `message ${uuid} to be ${status}` },
      ),
    cancel: (uuid: string, as?: Workspace) => (as ?? get().ws).api('post', `/v1/messages/${uuid}/cancel`),
    reschedule: (uuid: string, body: unknown, as?: Workspace) =>
      (as ?? get().ws).api('patch', `/v1/messages/${uuid}`).send(body as object),
  };
}

/** A delivered scheduled message: released no earlier than its time, then sent, once. */
function expectDeliveredAfter(message: { events: Event[]; scheduled_at: string }) {
  expect(types(message.events).slice(-3)).toEqual(['pending', 'sending', 'sent']);
  const released = message.events[message.events.length - 3];
  expect(new Date(released.at).getTime()).toBeGreaterThanOrEqual(new Date(message.scheduled_at).getTime());
}

describe('scheduled sends', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ SMTP_URL: smtp.url, ...CLOCKS });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const s = scheduling(() => ({ t, ws, sender, smtp }));

  it('delivers nothing before its time, and the message once after it', async () => {
    const { uuids, at } = await s.schedule(['later@example.test'], 4000);
    await sleepUntil(at - 1500);
    const before = await s.read(uuids[0]);
    expect(before.status).toBe('scheduled');
    expect(new Date(before.scheduled_at).getTime()).toBe(at);
    expect(types(before.events)).toEqual(['scheduled']);
    expect(s.receivedBy('later@example.test')).toBe(0);

    const sent = await s.settled(uuids[0], 'sent');
    expectDeliveredAfter(sent);
    expect(types(sent.events)).toEqual(['scheduled', 'pending', 'sending', 'sent']);
    await sleep(SETTLE_MS);
    expect(s.receivedBy('later@example.test')).toBe(1);
  });

  it('cancels a scheduled message for good: canceled, never delivered, a second cancel is a 409', async () => {
    const { uuids, at } = await s.schedule(['canceled@example.test'], 1500);
    const canceled = await s.cancel(uuids[0]).expect(200);
    expect(canceled.body.data).toEqual(await s.read(uuids[0]));
    expect(canceled.body.data.status).toBe('canceled');
    expect(types(canceled.body.data.events)).toEqual(['scheduled', 'canceled']);

    await sleepUntil(at + SETTLE_MS);
    expect((await s.read(uuids[0])).status).toBe('canceled');
    expect(s.receivedBy('canceled@example.test')).toBe(0);
    const again = await s.cancel(uuids[0]).expect(409);
    expect(again.body).toEqual({ error: 'not_scheduled', message: expect.stringContaining('canceled') });
    const moved = await s.reschedule(uuids[0], { scheduled_at: new Date(Date.now() + 60_000).toISOString() });
    expect(moved.status).toBe(409);
    expect(moved.body.error).toBe('not_scheduled');
    expect(types((await s.read(uuids[0])).events)).toEqual(['scheduled', 'canceled']);
  });

  it('reschedules: nothing leaves at the old time, the message leaves once at the new one', async () => {
    const { uuids, at } = await s.schedule(['moved@example.test'], 1500);
    const newAt = new Date(at + 3000);
    const moved = await s.reschedule(uuids[0], { scheduled_at: newAt.toISOString() }).expect(200);
    expect(moved.body.data).toEqual(await s.read(uuids[0]));
    expect(moved.body.data).toMatchObject({ status: 'scheduled', scheduled_at: newAt.toISOString() });
    expect(moved.body.data.events.map((e: Event) => [e.type, e.detail])).toEqual([
      ['scheduled', {}],
      ['scheduled', { scheduled_at: newAt.toISOString(), rescheduled: true }],
    ]);

    await sleepUntil(at + 1500);
    expect((await s.read(uuids[0])).status).toBe('scheduled');
    expect(s.receivedBy('moved@example.test')).toBe(0);

    const sent = await s.settled(uuids[0], 'sent');
    expectDeliveredAfter(sent);
    await sleep(SETTLE_MS);
    expect(s.receivedBy('moved@example.test')).toBe(1);
  });

  it('releases at once a message rescheduled to a time in the past, and delivers it once', async () => {
    const { uuids } = await s.schedule(['now@example.test'], 60_000);
    const past = new Date(Date.now() - 60_000).toISOString();
    const moved = await s.reschedule(uuids[0], { scheduled_at: past }).expect(200);
    expect(moved.body.data.scheduled_at).toBe(past);
    expect(types(moved.body.data.events).slice(0, 3)).toEqual(['scheduled', 'scheduled', 'pending']);
    await s.settled(uuids[0], 'sent');
    await sleep(SETTLE_MS);
    expect(s.receivedBy('now@example.test')).toBe(1);
  });

  it('answers 409 not_scheduled for a message that was sent, and 404 for one it cannot see', async () => {
    const res = await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: ['direct@example.test'], subject: 'Now', text: 'x' })
      .expect(202);
    const uuid: string = res.body.data.messages[0].uuid;
    await s.settled(uuid, 'sent');
    for (const answer of [
      await s.cancel(uuid),
      await s.reschedule(uuid, { scheduled_at: new Date(Date.now() + 60_000).toISOString() }),
    ]) {
      expect(answer.status).toBe(409);
      expect(answer.body).toEqual({ error: 'not_scheduled', message: expect.stringContaining('sent') });
    }

    const { uuids } = await s.schedule(['unseen@example.test'], 3_600_000);
    const other = await createWorkspace(t);
    const later = { scheduled_at: new Date(Date.now() + 60_000).toISOString() };
    for (const [as, id] of [
      [ws, 'not-a-uuid'],
      [ws, '00000000-0000-4000-8000-000000000000'],
      [other, uuids[0]],
    ] as const) {
      for (const answer of [await s.cancel(id, as), await s.reschedule(id, later, as)]) {
        expect(answer.status).toBe(404);
        expect(answer.body.error).toBe('not_found');
      }
    }
    expect(types((await s.read(uuids[0])).events)).toEqual(['scheduled']);
  });

  it('refuses a bad reschedule with a 422 naming the field, and changes nothing', async () => {
    const { uuids, at } = await s.schedule(['rules@example.test'], 3_600_000);
    const in31Days = new Date(Date.now() + 31 * 24 * 3_600_000).toISOString();
    for (const [body, field] of [
      [{}, 'scheduled_at'],
      [{ scheduled_at: null }, 'scheduled_at'],
      [{ scheduled_at: '2030-01-01T10:00:00' }, 'scheduled_at'],
      [{ scheduled_at: '2030-02-31T10:00:00Z' }, 'scheduled_at'],
      [{ scheduled_at: 1767261600000 }, 'scheduled_at'],
      [{ scheduled_at: in31Days }, 'scheduled_at'],
      [{ scheduled_at: new Date(at).toISOString(), status: 'pending' }, 'status'],
      [[], 'body'],
    ] as const) {
      const res = await s.reschedule(uuids[0], body);
      expect({ body, status: res.status }).toEqual({ body, status: 422 });
      expect(res.body).toMatchObject({
        error: 'validation_failed',
        errors: [{ field, message: expect.any(String) }],
      });
    }
    const unchanged = await s.read(uuids[0]);
    expect(new Date(unchanged.scheduled_at).getTime()).toBe(at);
    expect(types(unchanged.events)).toEqual(['scheduled']);
  });

  it('refuses __proto__ and constructor keys in a reschedule', async () => {
    const { uuids } = await s.schedule(['proto@example.test'], 3_600_000);
    for (const raw of [
      '{"scheduled_at": "2026-12-24T08:00:00Z", "__proto__": {"x": 1}}',
      '{"constructor": 1}',
    ]) {
      const res = await ws
        .api('patch', `/v1/messages/${uuids[0]}`)
        .set('Content-Type', 'application/json')
        .send(raw);
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('validation_failed');
    }
    expect(types((await s.read(uuids[0])).events)).toEqual(['scheduled']);
  });

  it('Swagger documents the reschedule and cancel routes, their body and their answers', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    const patch = doc.body.paths['/v1/messages/{uuid}'].patch;
    const cancel = doc.body.paths['/v1/messages/{uuid}/cancel'].post;
    expect(patch.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/RescheduleMessageDto',
    });
    expect(doc.body.components.schemas.RescheduleMessageDto.properties.scheduled_at).toMatchObject({
      type: 'string',
    });
    for (const op of [patch, cancel]) {
      expect(op.responses['200'].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/MessageResponse',
      });
      expect(op.responses['409'].description).toContain('not_scheduled');
      expect(op.responses['404'].description).toContain('not_found');
    }
    expect(patch.responses['422'].description).toContain('validation_failed');
  });

  it('never both cancels or reschedules and sends a message whose time comes during the request', async () => {
    const recipients = Array.from({ length: 20 }, (_, i) => `race${i}@example.test`);
    const { uuids, at } = await s.schedule(recipients, 1500);
    const later = { scheduled_at: new Date(at + 3_600_000).toISOString() };
    // Spread over the due time: the first ones well before it, the last ones after the releaser's next pass.
    const answers = await Promise.all(
      uuids.map(async (uuid, i) => {
        await sleepUntil(at - 200 + i * 30);
        const res = i % 2 === 0 ? await s.cancel(uuid) : await s.reschedule(uuid, later);
        return res.status;
      }),
    );
    expect(answers.every((status) => status === 200 || status === 409)).toBe(true);

    const outcomes = await eventually(
      async () => {
        const read = await Promise.all(uuids.map((uuid) => s.read(uuid)));
        return read.every((m) => ['canceled', 'scheduled', 'sent'].includes(m.status)) ? read : null;
      },
      { timeoutMs: 20000, what: 'every raced message to be canceled, rescheduled or sent' },
    );
    await sleep(SETTLE_MS);
    outcomes.forEach((message, i) => {
      const received = s.receivedBy(recipients[i]);
      const kept = i % 2 === 0 ? 'canceled' : 'scheduled';
      const summary = { i, answer: answers[i], status: message.status, received };
      if (answers[i] === 200) expect(summary).toEqual({ ...summary, status: kept, received: 0 });
      else expect(summary).toEqual({ ...summary, answer: 409, status: 'sent', received: 1 });
    });
  });
});

describe('scheduled sends across restarts', () => {
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
  });
  afterAll(() => smtp.close());

  it('keeps the schedule in PostgreSQL: a message due while the app is down leaves once it is back', async () => {
    const env = {
      DATABASE_URL: newDatabaseUrl(),
      QUEUE_PREFIX: newQueuePrefix(),
      SMTP_URL: smtp.url,
      ...CLOCKS,
    };
    let first: TestApp | undefined;
    let second: TestApp | undefined;
    try {
      first = await createTestApp(env);
      const ws = await createWorkspace(first);
      const sender = await createSender(first, ws);
      const at = new Date(Date.now() + 3000);
      const res = await ws
        .api('post', '/v1/emails')
        .send({
          from: sender.email,
          to: ['restart@example.test'],
          subject: 'x',
          text: 'x',
          scheduled_at: at.toISOString(),
        })
        .expect(202);
      const uuid: string = res.body.data.messages[0].uuid;
      await first.close();

      await sleepUntil(at.getTime() + 1000);
      expect(smtp.messages).toHaveLength(0);
      const db = new Client({ connectionString: env.DATABASE_URL });
      await db.connect();
      const { rows } = await db
        .query(`SELECT status FROM messages WHERE id = $1`, [uuid])
        .finally(() => db.end());
      expect(rows).toEqual([{ status: 'scheduled' }]);

      second = await createTestApp(env);
      const app = second;
      const message = await eventually(
        async () => {
          const read = await app.http
            .get(`/v1/messages/${uuid}`)
            .set('Authorization', `Bearer ${ws.token}`)
            .expect(200);
          return read.body.data.status === 'sent' ? read.body.data : null;
        },
        { timeoutMs: 20000, what: 'the scheduled message to be sent by the second app' },
      );
      expectDeliveredAfter(message);
      await sleep(SETTLE_MS);
      expect(smtp.messages.map((m) => m.envelopeTo[0])).toEqual(['restart@example.test']);
    } finally {
      await first?.close();
      await second?.close();
      await dropDatabase(env.DATABASE_URL);
      await deleteKeys(TEST_REDIS_URL, env.QUEUE_PREFIX);
    }
  });

  describe('with a Redis that restarts empty', () => {
    let redis: RedisServerHandle;
    let t: TestApp;
    let ws: Workspace;
    let sender: Sender;

    beforeAll(async () => {
      redis = await startRedisServer();
      t = await createTestApp({
        REDIS_URL: redis.url,
        SMTP_URL: smtp.url,
        QUEUE_TIMEOUT_MS: '300',
        ...CLOCKS,
      });
      ws = await createWorkspace(t);
      sender = await createSender(t, ws);
    });
    afterAll(async () => {
      await t.close();
      await redis.close();
    });

    const s = scheduling(() => ({ t, ws, sender, smtp }));

    it('releases a message due while Redis is down, and delivers it once when Redis is back', async () => {
      const { uuids, at } = await s.schedule(['redis@example.test'], 2000);
      await redis.kill();
      await sleepUntil(at);
      const released = await s.settled(uuids[0], 'pending');
      expect(types(released.events)).toEqual(['scheduled', 'pending']);
      expect(s.receivedBy('redis@example.test')).toBe(0);

      await redis.start();
      const sent = await s.settled(uuids[0], 'sent');
      expectDeliveredAfter(sent);
      await sleep(SETTLE_MS);
      expect(s.receivedBy('redis@example.test')).toBe(1);
    });

    it('keeps a message scheduled across a Redis restart, and delivers it once at its time', async () => {
      const { uuids } = await s.schedule(['kept@example.test'], 2500);
      await redis.kill();
      await redis.start();
      const sent = await s.settled(uuids[0], 'sent');
      expectDeliveredAfter(sent);
      await sleep(SETTLE_MS);
      expect(s.receivedBy('kept@example.test')).toBe(1);
    });
  });
});
