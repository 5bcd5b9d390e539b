import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { Client } from 'pg';
import { SmtpRelayServer } from '../src/modules/smtp-relay/smtp-relay.server';
import {
  createTestApp,
  createWorkspace,
  dropDatabase,
  eventually,
  newDatabaseUrl,
  TestApp,
  Workspace,
} from './support/app';
import { PgProxy, startPgProxy } from './support/pg-proxy';
import { RedisServerHandle, startRedisServer } from './support/redis-server';
import { createSender, Sender } from './support/sending';
import { plainAuth, rawSmtp, Reply } from './support/smtp-client';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import { lockTable } from './support/table-lock';
import { freePort, startAppProcess } from './support/processes';

const relayPort = (t: TestApp) => t.app.get(SmtpRelayServer).port() as number;

/** One message from `from` to `to` over a raw, authenticated session; the reply to the end of DATA. */
async function submit(port: number, token: string, from: string, to: string): Promise<Reply> {
  const c = await rawSmtp(port);
  try {
    await c.command('EHLO client.test');
    expect((await c.command(`AUTH PLAIN ${plainAuth('app', token)}`)).code).toBe(235);
    expect((await c.command(`MAIL FROM:<${from}>`)).code).toBe(250);
    expect((await c.command(`RCPT TO:<${to}>`)).code).toBe(250);
    expect((await c.command('DATA')).code).toBe(354);
    return await c.send(`From: ${from}\r\nTo: ${to}\r\nSubject: s\r\n\r\nbody\r\n.\r\n`);
  } finally {
    c.close();
  }
}

describe('SMTP relay: 250 means stored', () => {
  it('answers 451 at the end of DATA (and 454 to an AUTH it cannot check) when PostgreSQL is unreachable, and nothing of that message is sent', async () => {
    const databaseUrl = newDatabaseUrl('relay_pg');
    const proxy: PgProxy = await startPgProxy(databaseUrl);
    const smtp = await startSmtpSink();
    const t = await createTestApp({
      DATABASE_URL: proxy.url,
      SMTP_URL: smtp.url,
      SMTP_RELAY_PORT: '0',
      AUTH_CACHE_TTL_MS: '60000',
    });
    t.db.on('error', () => undefined);
    try {
      const ws = await createWorkspace(t);
      const sender = await createSender(t, ws);
      // Warms the key and sender caches, so only the insert needs PostgreSQL.
      expect((await submit(relayPort(t), ws.token, sender.email, 'warm@example.test')).code).toBe(250);
      await eventually(async () => smtp.messages.length === 1, { what: 'the warm-up message' });

      const uncached = await t
        .admin('post', `/admin/v1/workspaces/${ws.workspaceId}/api-keys`)
        .send({ name: 'not yet used' })
        .expect(201);

      proxy.down();
      const c = await rawSmtp(relayPort(t));
      await c.command('EHLO client.test');
      const auth = await c.command(`AUTH PLAIN ${plainAuth('app', uncached.body.data.token)}`);
      c.close();
      expect(auth).toMatchObject({ code: 454, text: expect.stringMatching(/^4\.7\.0 /) });
      expect(await submit(relayPort(t), ws.token, sender.email, 'lost@example.test')).toMatchObject({
        code: 451,
        text: expect.stringMatching(/^4\.3\.0 /),
      });
      proxy.up();

      expect((await submit(relayPort(t), ws.token, sender.email, 'after@example.test')).code).toBe(250);
      await eventually(async () => smtp.messages.length === 2, { what: 'the message after the outage' });
      expect(smtp.messages.map((m) => m.envelopeTo[0])).toEqual(['warm@example.test', 'after@example.test']);
      const direct = new Client({ connectionString: databaseUrl });
      await direct.connect();
      const { rows } = await direct.query(`SELECT recipient FROM messages ORDER BY created_at`);
      await direct.end();
      expect(rows.map((r) => r.recipient)).toEqual(['warm@example.test', 'after@example.test']);
    } finally {
      await t.close();
      await proxy.close();
      await smtp.close();
      await dropDatabase(databaseUrl);
    }
  });

  it('answers 250 with Redis down, and delivers the message once Redis is back', async () => {
    const redis: RedisServerHandle = await startRedisServer();
    const smtp = await startSmtpSink();
    const t = await createTestApp({
      REDIS_URL: redis.url,
      SMTP_URL: smtp.url,
      SMTP_RELAY_PORT: '0',
      RATE_LIMIT_RPS: '100',
      SWEEP_INTERVAL_MS: '250',
      SWEEP_GRACE_MS: '1000',
      QUEUE_TIMEOUT_MS: '500',
    });
    try {
      const ws = await createWorkspace(t);
      const sender = await createSender(t, ws);
      await redis.kill();
      expect((await submit(relayPort(t), ws.token, sender.email, 'redis-down@example.test')).code).toBe(250);
      const { rows } = await t.db.query(
        `SELECT m.status, r.source FROM messages m JOIN email_requests r ON r.id = m.request_id`,
      );
      expect(rows).toEqual([{ status: 'pending', source: 'smtp' }]);
      await redis.start();
      await eventually(async () => smtp.messages.length === 1, {
        timeoutMs: 30000,
        what: 'the message delivered after Redis is back',
      });
      expect(smtp.messages[0].envelopeTo).toEqual(['redis-down@example.test']);
    } finally {
      await t.close();
      await smtp.close();
      await redis.close();
    }
  });
});

describe('SMTP relay with SMTP_RELAY_TLS_CERT/_KEY', () => {
  let dir: string;
  let smtp: SmtpSink;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-tls-'));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1'],
        ...['-keyout', key, '-out', cert],
      ],
      { stdio: 'ignore' },
    );
    smtp = await startSmtpSink();
    t = await createTestApp({
      SMTP_URL: smtp.url,
      SMTP_RELAY_PORT: '0',
      SMTP_RELAY_TLS_CERT: cert,
      SMTP_RELAY_TLS_KEY: key,
    });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('offers STARTTLS and refuses AUTH before it', async () => {
    const c = await rawSmtp(relayPort(t));
    const ehlo = await c.command('EHLO client.test');
    expect(ehlo.text.split('\n')).toContain('STARTTLS');
    const auth = await c.command(`AUTH PLAIN ${plainAuth('app', ws.token)}`);
    c.close();
    expect(auth.code).toBe(538);
  });

  it('takes AUTH and the message after STARTTLS', async () => {
    const transport = createTransport({
      host: '127.0.0.1',
      port: relayPort(t),
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'app', pass: ws.token },
    });
    const info = await transport.sendMail({
      from: sender.email,
      to: 'tls@example.test',
      subject: 'over TLS',
      text: 'hello',
    });
    transport.close();
    expect(info.response).toMatch(/^250 /);
    await eventually(async () => smtp.messages.length === 1, { what: 'the message sent over TLS' });
    expect(smtp.messages[0].envelopeTo).toEqual(['tls@example.test']);
  });
});

describe('SMTP relay shutdown', () => {
  it('takes no new connection, and answers the message being stored before it closes', async () => {
    const t = await createTestApp({ SMTP_RELAY_PORT: '0', APP_ROLE: 'api' });
    try {
      const ws = await createWorkspace(t);
      const sender = await createSender(t, ws);
      const port = relayPort(t);
      const lock = await lockTable(t, 'messages');
      const pending = submit(port, ws.token, sender.email, 'in-flight@example.test');
      await eventually(async () => (await lock.waiting()) > 0, { what: 'the insert waiting for the lock' });
      const closing = t.closeApp();
      await expect(rawSmtp(port)).rejects.toThrow(/ECONNREFUSED/);
      await lock.release();
      expect((await pending).code).toBe(250);
      await closing;
      const { rows } = await t.db.query(`SELECT recipient FROM messages`);
      expect(rows).toEqual([{ recipient: 'in-flight@example.test' }]);
    } finally {
      await t.close();
    }
  });
});

describe('SMTP relay in a process stopped by SIGTERM', () => {
  it('warns at start without TLS; on SIGTERM takes no new connection, answers the message being stored, exits 0', async () => {
    const t = await createTestApp({ APP_ROLE: 'api' });
    try {
      const ws = await createWorkspace(t);
      const sender = await createSender(t, ws);
      const port = await freePort();
      const app = await startAppProcess({
        APP_ROLE: 'api',
        DATABASE_URL: t.config.databaseUrl,
        REDIS_URL: t.config.redisUrl,
        QUEUE_PREFIX: t.config.queuePrefix,
        SMTP_RELAY_PORT: String(port),
      });
      expect(app.output()).toMatch(
        /SMTP relay without SMTP_RELAY_TLS_CERT\/_KEY: AUTH \(the API key\) travels in plain text/,
      );
      const lock = await lockTable(t, 'messages');
      const pending = submit(port, ws.token, sender.email, 'sigterm@example.test');
      await eventually(async () => (await lock.waiting()) > 0, { what: 'the insert waiting for the lock' });
      const exited = app.kill('SIGTERM');
      await eventually(
        () =>
          rawSmtp(port).then(
            (c) => (c.close(), false),
            () => true,
          ),
        {
          what: 'the relay refusing new connections',
        },
      );
      await lock.release();
      expect((await pending).code).toBe(250);
      expect(await exited).toBe(0);
      const { rows } = await t.db.query(`SELECT recipient FROM messages`);
      expect(rows).toEqual([{ recipient: 'sigterm@example.test' }]);
    } finally {
      await t.close();
    }
  });
});
