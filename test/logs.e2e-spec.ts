import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import Redis from 'ioredis';
import { DELIVERY_QUEUE, DeliveryJobId, SendJobData } from '../src/modules/delivery/delivery.jobs';
import {
  ADMIN_TOKEN,
  createTestApp,
  createWorkspace,
  deleteKeys,
  dropDatabase,
  eventually,
  newDatabaseUrl,
  newQueuePrefix,
  TEST_REDIS_URL as REDIS_URL,
} from './support/app';
import { AppProcess, startAppProcess } from './support/processes';
import { createSender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import { startRedisServer } from './support/redis-server';

const DATABASE_URL = newDatabaseUrl('logs');
const QUEUE_PREFIX = newQueuePrefix();

describe('logs', () => {
  let app: AppProcess;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    app = await startAppProcess({
      APP_ROLE: 'all',
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'info',
      ADMIN_TOKEN,
      DATABASE_URL,
      REDIS_URL,
      QUEUE_PREFIX,
    });
  });
  afterAll(async () => {
    await app.kill('SIGTERM');
    await smtp.close();
    await dropDatabase(DATABASE_URL);
    await deleteKeys(REDIS_URL, QUEUE_PREFIX);
  });

  const call = async (method: string, path: string, token: string, body?: unknown, headers = {}) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { data: Record<string, string> } };
  };

  it('are JSON lines with a request id, and never hold tokens, keys or idempotency keys', async () => {
    const user = await call('POST', '/admin/v1/users', ADMIN_TOKEN, {
      email: 'logs@owner.test',
      email_verified: true,
      features: { 'smtp.enabled': true },
    });
    const ws = await call('POST', '/admin/v1/workspaces', ADMIN_TOKEN, {
      name: 'logs',
      owner_id: user.body.data.id,
    });
    const key = await call('POST', `/admin/v1/workspaces/${ws.body.data.id}/api-keys`, ADMIN_TOKEN, {
      name: 'k',
    });
    const token = key.body.data.token;
    const domain = await call('POST', '/v1/domains', token, { name: 'logs.developer.test' });
    expect(domain.status).toBe(201);
    await call('POST', `/admin/v1/domains/${domain.body.data.id}/verify`, ADMIN_TOKEN);
    await call('POST', '/v1/addresses', token, { email: 'me@logs.developer.test' });
    const sent = await call(
      'POST',
      '/v1/emails',
      token,
      { from: 'me@logs.developer.test', to: ['x@example.test'], subject: 's', text: 't' },
      { 'Idempotency-Key': 'secret-idempotency-key', 'X-Request-Id': 'trace-me-42' },
    );
    expect(sent.status).toBe(202);
    await call('GET', '/v1/no-such-route', 'lp_garbage_token_value');
    await smtp.waitFor(1);
    const delivered = () =>
      app
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { requestId?: string; outcome?: string; msg?: string })
        .find((entry) => entry.outcome === 'sent');
    const deliveryLine = await eventually(async () => delivered(), { what: 'the delivery log line' });
    expect(deliveryLine).toMatchObject({
      requestId: 'trace-me-42',
      outcome: 'sent',
      msg: expect.stringMatching(/ sent$/),
    });

    const lines = app
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    const parsed = lines.map((line) => JSON.parse(line) as { req?: { id?: string; url?: string } });
    const requestLines = parsed.filter((entry) => entry.req);
    expect(requestLines.length).toBeGreaterThanOrEqual(8);
    expect(requestLines.every((entry) => typeof entry.req?.id === 'string')).toBe(true);
    expect(
      requestLines.some((entry) => entry.req?.id === 'trace-me-42' && entry.req?.url === '/v1/emails'),
    ).toBe(true);

    const output = app.output();
    expect(output).toContain('[redacted]');
    for (const secret of [
      token,
      ADMIN_TOKEN,
      'lp_garbage_token_value',
      'secret-idempotency-key',
      'PRIVATE KEY',
    ]) {
      expect(output).not.toContain(secret);
    }
  });

  it('an API process stops accepting and exits 0 on SIGTERM', async () => {
    expect(await app.kill('SIGTERM')).toBe(0);
    await expect(fetch(`${app.url}/health`)).rejects.toThrow();
  });
});

describe('above info, with no request logger', () => {
  it("still gives every request its id: the caller's X-Request-Id, or a new UUID, reaches the delivery job", async () => {
    const t = await createTestApp({ APP_ROLE: 'api', LOG_LEVEL: 'warn' });
    try {
      const ws = await createWorkspace(t);
      const sender = await createSender(t, ws);
      const queue = t.app.get<Queue<SendJobData>>(getQueueToken(DELIVERY_QUEUE));
      const send = (headers: Record<string, string>) =>
        ws
          .api('post', '/v1/emails')
          .set(headers)
          .send({ from: sender.email, to: ['x@example.test'], subject: 's', text: 't' })
          .expect(202);
      /** A send answers before its job is queued: waits for the job. */
      const requestIdOfJob = async (messageId: string) => {
        const { rows } = await t.db.query(`SELECT request_id FROM messages WHERE id = $1`, [messageId]);
        const job = await eventually(() => queue.getJob(DeliveryJobId.request(rows[0].request_id)), {
          what: `the job of ${messageId}`,
        });
        return job.data.requestId;
      };

      const traced = await send({ 'X-Request-Id': 'trace-me-43' });
      expect(await requestIdOfJob(traced.body.data.messages[0].uuid)).toBe('trace-me-43');
      const untraced = await send({ 'X-Request-Id': 'not a token, it has spaces' });
      expect(await requestIdOfJob(untraced.body.data.messages[0].uuid)).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    } finally {
      await t.close();
    }
  });
});

describe('start-up checks', () => {
  it('warns when Redis may evict queued jobs (maxmemory-policy other than noeviction)', async () => {
    const redis = await startRedisServer();
    const client = new Redis(redis.url);
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    client.disconnect();
    const databaseUrl = newDatabaseUrl('logs');
    const app = await startAppProcess({ APP_ROLE: 'api', DATABASE_URL: databaseUrl, REDIS_URL: redis.url });
    try {
      const warned = () =>
        app
          .output()
          .split('\n')
          .some(
            (line) => line.startsWith('{') && /maxmemory-policy is "allkeys-lru"/.test(JSON.parse(line).msg),
          );
      await eventually(async () => warned(), { timeoutMs: 5000, what: 'the maxmemory-policy warning' });
    } finally {
      await app.kill('SIGTERM');
      await dropDatabase(databaseUrl);
      await redis.close();
    }
  });
});
