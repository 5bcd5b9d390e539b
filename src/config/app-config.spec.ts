import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('applies the SPEC defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      role: 'all',
      adminToken: null,
      metricsToken: null,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/leadpush',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'leadpush',
      smtpUrl: 'smtp://127.0.0.1:1025',
      dnsServers: [],
      rateLimitRps: 100,
      rateLimitWorkspaceRps: 500,
      delivery: { maxAttempts: 5, backoffMs: 30000 },
      webhooks: {
        retryScheduleMs: [5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
        timeoutMs: 15000,
        allowPrivate: false,
      },
    });
  });

  it('reads the webhook settings', () => {
    const config = loadConfig({
      WEBHOOK_RETRY_SCHEDULE: '100ms,2s',
      WEBHOOK_TIMEOUT_MS: '500',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    expect(config.webhooks).toMatchObject({
      retryScheduleMs: [100, 2000],
      timeoutMs: 500,
      allowPrivate: true,
    });
  });

  it('parses lists, numbers and keys', () => {
    const config = loadConfig({
      DNS_SERVERS: '127.0.0.1:5353, 10.0.0.2,[::1]:53',
      DELIVERY_MAX_ATTEMPTS: '3',
      DKIM_ENCRYPTION_KEY: 'ab'.repeat(32),
    });
    expect(config.dnsServers).toEqual(['127.0.0.1:5353', '10.0.0.2', '[::1]:53']);
    expect(config.delivery.maxAttempts).toBe(3);
    expect(config.dkimEncryptionKey).toEqual(Buffer.alloc(32, 0xab));
  });

  it('reads what a worker takes on from WORKER_QUEUES: everything by default, nothing in the api role', () => {
    expect([...loadConfig({}).workerQueues]).toEqual(['delivery', 'webhooks', 'inbound']);
    expect([...loadConfig({ APP_ROLE: 'worker', WORKER_QUEUES: ' webhooks ' }).workerQueues]).toEqual([
      'webhooks',
    ]);
    expect([...loadConfig({ WORKER_QUEUES: 'inbound,delivery' }).workerQueues]).toEqual([
      'inbound',
      'delivery',
    ]);
    expect(loadConfig({ APP_ROLE: 'api', WORKER_QUEUES: 'delivery' }).workerQueues.size).toBe(0);
  });

  it('turns /metrics on with METRICS_TOKEN', () => {
    expect(loadConfig({ METRICS_TOKEN: 'scrape-me' }).metricsToken).toBe('scrape-me');
  });

  it('derives the workspace rate limit from the per-key one unless it is set', () => {
    expect(loadConfig({ RATE_LIMIT_RPS: '7' }).rateLimitWorkspaceRps).toBe(35);
    expect(loadConfig({ RATE_LIMIT_RPS: '7', RATE_LIMIT_WORKSPACE_RPS: '9' }).rateLimitWorkspaceRps).toBe(9);
  });

  it.each([
    ['PORT', 'abc'],
    ['APP_ROLE', 'both'],
    ['DATABASE_URL', 'mysql://x'],
    ['DELIVERY_MAX_ATTEMPTS', '0'],
    ['RATE_LIMIT_RPS', '-1'],
    ['RATE_LIMIT_WORKSPACE_RPS', '0'],
    ['DNS_SERVERS', 'not a server'],
    ['DNS_SERVERS', '999.1.1.1'],
    ['DNS_SERVERS', '127.0.0.1:99999'],
    ['DNS_SERVERS', ','],
    ['WORKER_QUEUES', 'delivery,bounces'],
    ['WORKER_QUEUES', ' , '],
    ['DKIM_ENCRYPTION_KEY', 'short'],
    ['SMTP_RELAY_PORT', '70000'],
    ['SMTP_RELAY_TLS_CERT', '/etc/relay/cert.pem'],
    ['SMTP_RELAY_TLS_KEY', '/etc/relay/key.pem'],
    ['WEBHOOK_RETRY_SCHEDULE', '5s,,5m'],
    ['WEBHOOK_TIMEOUT_MS', '10'],
    ['WEBHOOK_ALLOW_PRIVATE', 'yes'],
  ])('refuses a bad %s with one line naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(
      new RegExp(`^Invalid environment variable ${name}: `),
    );
  });

  it('turns the SMTP relay on with a port, and STARTTLS with both PEM files', () => {
    expect(loadConfig({}).smtpRelay).toEqual({ port: null, tls: null });
    expect(
      loadConfig({ SMTP_RELAY_PORT: '2587', SMTP_RELAY_TLS_CERT: 'c.pem', SMTP_RELAY_TLS_KEY: 'k.pem' })
        .smtpRelay,
    ).toEqual({ port: 2587, tls: { certFile: 'c.pem', keyFile: 'k.pem' } });
  });

  it('signs return paths at BOUNCE_DOMAIN with BOUNCE_SIGNING_KEY, or a key derived from DKIM_ENCRYPTION_KEY', () => {
    expect(loadConfig({}).bounce).toEqual({ domain: null, signingKey: null, inboundPort: null });
    const own = loadConfig({
      BOUNCE_DOMAIN: 'Bounces.Example.com',
      BOUNCE_SIGNING_KEY: 'k'.repeat(32),
      INBOUND_SMTP_PORT: '2525',
    });
    expect(own.bounce).toEqual({
      domain: 'bounces.example.com',
      signingKey: Buffer.from('k'.repeat(32)),
      inboundPort: 2525,
    });
    const dkimKey = 'ab'.repeat(32);
    const derived = loadConfig({ BOUNCE_DOMAIN: 'bounces.example.com', DKIM_ENCRYPTION_KEY: dkimKey }).bounce
      .signingKey;
    expect(derived).toHaveLength(32);
    expect(derived!.equals(Buffer.from(dkimKey, 'hex'))).toBe(false);
    expect(() => loadConfig({ BOUNCE_DOMAIN: 'bounces.example.com' })).toThrow(
      'Invalid environment variable BOUNCE_DOMAIN: needs BOUNCE_SIGNING_KEY or DKIM_ENCRYPTION_KEY to sign its addresses',
    );
    expect(() => loadConfig({ BOUNCE_DOMAIN: 'not a domain', BOUNCE_SIGNING_KEY: 'k'.repeat(32) })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ BOUNCE_SIGNING_KEY: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ INBOUND_SMTP_PORT: '70000' })).toThrow(ConfigError);
  });
});
