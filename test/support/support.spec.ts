import { Resolver } from 'node:dns/promises';
import Redis from 'ioredis';
import { createTransport } from 'nodemailer';
import { Client } from 'pg';
import { startDnsServer, type DnsServerHandle } from './dns-server';
import { startPgProxy, type PgProxy } from './pg-proxy';
import { startRedisServer, type RedisServerHandle } from './redis-server';
import { startSmtpSink, type SmtpSink } from './smtp-sink';

describe('redis server', () => {
  let redis: RedisServerHandle;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    client = new Redis(redis.url, { retryStrategy: () => 50 });
    client.on('error', () => undefined);
  });

  afterAll(async () => {
    client.disconnect();
    await redis.close();
    await redis.close();
  });

  it('answers PING, survives kill and restarts on the same port', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await client.ping()).toBe('PONG');
    await client.set('key', 'value');

    await redis.kill();
    await redis.start();

    expect(await client.ping()).toBe('PONG');
    expect(await client.get('key')).toBeNull();

    await redis.stop();
    await redis.start();
    expect(await client.ping()).toBe('PONG');
  });
});

describe('smtp sink', () => {
  let sink: SmtpSink;

  beforeEach(async () => {
    sink = await startSmtpSink();
  });

  afterEach(async () => {
    await sink.close();
    await sink.close();
  });

  const transport = () =>
    createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });

  it('records messages and rejects recipients on demand', async () => {
    sink.setRcptHandler((address) =>
      address === 'blocked@example.test' ? { code: 550, message: 'No such user' } : undefined,
    );
    const mailer = transport();

    await mailer.sendMail({
      from: 'sender@example.test',
      to: 'first@example.test',
      bcc: 'hidden@example.test',
      subject: 'First',
      text: 'one',
      headers: { 'X-Correlation-Id': 'corr-1' },
    });
    await mailer.sendMail({
      from: 'sender@example.test',
      to: 'second@example.test',
      subject: 'Second',
      text: 'two',
    });
    await expect(
      mailer.sendMail({
        from: 'sender@example.test',
        to: 'blocked@example.test',
        subject: 'Nope',
        text: 'x',
      }),
    ).rejects.toMatchObject({ responseCode: 550 });
    mailer.close();

    await sink.waitFor(2);
    expect(sink.messages).toHaveLength(2);
    const [first, second] = sink.messages;
    expect(first.envelopeFrom).toBe('sender@example.test');
    expect(first.envelopeTo).toEqual(['first@example.test', 'hidden@example.test']);
    expect(first.parsed.subject).toBe('First');
    expect(first.parsed.headers.get('x-correlation-id')).toBe('corr-1');
    expect(first.raw.toString()).not.toMatch(/^bcc:/im);
    expect(second.parsed.subject).toBe('Second');
    expect(sink.rcptAttempts('blocked@example.test')).toBe(1);
    await expect(sink.waitFor(3, 100)).rejects.toThrow('got 2');
  });

  it('rejects senders at MAIL FROM on demand, with the command and the reply as given', async () => {
    sink.setMailFromHandler((address) =>
      address === 'nobody@example.test' ? { code: 530, message: '5.7.0 Authentication required' } : undefined,
    );
    const mailer = transport();
    await expect(
      mailer.sendMail({ from: 'nobody@example.test', to: 'rcpt@example.test', subject: 'x', text: 'x' }),
    ).rejects.toMatchObject({
      command: 'MAIL FROM',
      responseCode: 530,
      response: '530 5.7.0 Authentication required',
    });
    await mailer.sendMail({ from: 'sender@example.test', to: 'rcpt@example.test', subject: 'y', text: 'y' });
    mailer.close();
    expect(sink.messages.map((m) => m.envelopeFrom)).toEqual(['sender@example.test']);
  });

  it('answers 451 after DATA once, then accepts', async () => {
    sink.setDataHandler(() =>
      sink.dataAttempts() === 1 ? { code: 451, message: 'Try again later' } : undefined,
    );
    const mailer = transport();
    const mail = { from: 'sender@example.test', to: 'rcpt@example.test', subject: 'Retry', text: 'x' };

    await expect(mailer.sendMail(mail)).rejects.toMatchObject({ responseCode: 451 });
    await mailer.sendMail(mail);
    mailer.close();

    expect(sink.dataAttempts()).toBe(2);
    expect(sink.messages).toHaveLength(1);
    sink.reset();
    expect(sink.messages).toHaveLength(0);
    expect(sink.rcptAttempts('rcpt@example.test')).toBe(0);
  });

  it('drops pooled connections on stop and accepts again after start on the same port', async () => {
    const port = sink.port;
    const mailer = createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
    });
    const mail = { from: 'sender@example.test', to: 'rcpt@example.test', subject: 'Pool', text: 'x' };

    await mailer.sendMail(mail);
    await sink.stop();
    await expect(mailer.sendMail(mail)).rejects.toThrow();
    await sink.start();
    expect(sink.port).toBe(port);
    await mailer.sendMail(mail);
    mailer.close();

    expect(sink.messages).toHaveLength(2);
  });

  it('delays the DATA answer', async () => {
    sink.setDelay(300);
    const mailer = transport();
    const started = Date.now();
    await mailer.sendMail({
      from: 'sender@example.test',
      to: 'rcpt@example.test',
      subject: 'Slow',
      text: 'x',
    });
    mailer.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe('dns server', () => {
  let dns: DnsServerHandle;
  let resolver: Resolver;

  beforeEach(async () => {
    dns = await startDnsServer();
    resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([dns.server]);
  });

  afterEach(async () => {
    resolver.cancel();
    await dns.close();
    await dns.close();
  });

  it('serves short TXT records', async () => {
    dns.setTxt('_dmarc.example.test', 'v=DMARC1; p=none');
    expect(await resolver.resolveTxt('_dmarc.example.test')).toEqual([['v=DMARC1; p=none']]);
    dns.setTxt('multi.example.test', ['one', 'two']);
    expect((await resolver.resolveTxt('MULTI.example.test.')).sort()).toEqual([['one'], ['two']]);
  });

  it('splits long values into 255-byte character-strings of one record', async () => {
    const value = 'v=DKIM1; k=rsa; p=' + 'A'.repeat(382);
    dns.setTxt('sel._domainkey.example.test', value);
    const records = await resolver.resolveTxt('sel._domainkey.example.test');
    expect(records).toHaveLength(1);
    expect(records[0].map((chunk) => chunk.length)).toEqual([255, 145]);
    expect(records[0].join('')).toBe(value);
  });

  it('answers too large for UDP over TCP', async () => {
    const value = 'p=' + 'B'.repeat(1500);
    dns.setTxt('big.example.test', value);
    const records = await resolver.resolveTxt('big.example.test');
    expect(records.map((chunks) => chunks.join(''))).toEqual([value]);
  });

  it('answers NXDOMAIN for unknown and deleted names', async () => {
    await expect(resolver.resolveTxt('missing.example.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    dns.setTxt('gone.example.test', 'x');
    dns.delete('gone.example.test');
    await expect(resolver.resolveTxt('gone.example.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('swallows queries in timeout mode', async () => {
    dns.setTxt('slow.example.test', 'x');
    dns.setTimeoutMode(true);
    await expect(resolver.resolveTxt('slow.example.test')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    dns.setTimeoutMode(false);
    expect(await resolver.resolveTxt('slow.example.test')).toEqual([['x']]);
  });
});

describe('pg proxy', () => {
  const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const table = `leadpush_proxy_${process.pid}_${Date.now()}`;
  let proxy: PgProxy;
  let direct: Client;

  beforeAll(async () => {
    proxy = await startPgProxy(base);
    direct = new Client({ connectionString: base });
    await direct.connect();
    await direct.query(`CREATE TABLE ${table} (n int)`);
  });

  afterAll(async () => {
    await direct.query(`DROP TABLE IF EXISTS ${table}`);
    await direct.end();
    await proxy.close();
  });

  const viaProxy = async () => {
    const client = new Client({ connectionString: proxy.url });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };

  it('forwards queries, and drops and refuses connections while down', async () => {
    const client = await viaProxy();
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(proxy.connections()).toBe(1);
    proxy.down();
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await expect(viaProxy()).rejects.toThrow();
    proxy.up();
    const again = await viaProxy();
    expect((await again.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    await again.end();
  });

  it('cuts a connection after the server committed, so the work is stored but the client sees an error', async () => {
    const client = await viaProxy();
    proxy.cutAfterCommit(/^INSERT/);
    await expect(client.query(`INSERT INTO ${table} (n) VALUES ($1)`, [7])).rejects.toThrow();
    expect(proxy.cuts()).toBe(1);
    expect((await direct.query(`SELECT n FROM ${table}`)).rows).toEqual([{ n: 7 }]);

    const next = await viaProxy();
    await next.query(`INSERT INTO ${table} (n) VALUES ($1)`, [8]);
    expect(proxy.cuts()).toBe(1);
    await next.end();
  });
});
