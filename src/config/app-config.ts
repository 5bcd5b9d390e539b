import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  validateSync,
} from 'class-validator';
import { hkdfSync } from 'node:crypto';
import { Resolver } from 'node:dns';
import { parseRetrySchedule } from '../modules/webhooks/retry-schedule';

export const APP_ROLES = ['all', 'api', 'worker'] as const;
export type AppRole = (typeof APP_ROLES)[number];

/** The work a worker (APP_ROLE all or worker) can take on, each with its own queue. */
export const WORKER_QUEUES = ['delivery', 'webhooks', 'inbound'] as const;
export type WorkerQueue = (typeof WORKER_QUEUES)[number];

const splitList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The port of `ipv4:port` or `[ipv6]:port`, if the entry has one. */
const portOf = (server: string): string | undefined => /^(?:\[.*\]|[^:]*):(\d*)$/.exec(server)?.[1];

/** Whether Node's resolver takes every entry (`ip`, `ip:port`, `[ipv6]:port`) and every port is 1-65535. */
function isDnsServerList(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const servers = splitList(value);
  const badPort = (port: string | undefined) =>
    port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535);
  if (servers.some((server) => badPort(portOf(server)))) return false;
  try {
    new Resolver().setServers(servers);
    return servers.length > 0;
  } catch {
    return false;
  }
}

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/**
 * Every environment variable Leadpush reads, with its default. Validated once at
 * start-up: a bad value stops the process with one line naming the variable.
 */
class EnvironmentVariables {
  /** HTTP port. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** PostgreSQL connection URL. */
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/leadpush';

  /** Redis connection URL. */
  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Bull key prefix, so several installs can share one Redis. */
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1-64 letters, digits, _ . or -' })
  QUEUE_PREFIX = 'leadpush';

  /** Where delivery hands mail over (smtp:// or smtps://, credentials in the URL). */
  @Matches(/^smtps?:\/\/.+/, { message: 'must be an smtp:// or smtps:// URL' })
  SMTP_URL = 'smtp://127.0.0.1:1025';

  /** Secret. Bearer token of the operator API; unset turns the operator API off. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  /** Secret. Bearer token of `GET /metrics` (Prometheus scraping); unset turns `/metrics` off (404). */
  @IsOptional()
  @IsString()
  METRICS_TOKEN?: string;

  /** `all` (API + worker), `api` or `worker`. */
  @IsIn(APP_ROLES, { message: `must be one of ${APP_ROLES.join(', ')}` })
  APP_ROLE: AppRole = 'all';

  /**
   * What a worker takes on, a comma list of WORKER_QUEUES: one install can
   * run webhooks in processes of their own, so they never take CPU from
   * delivery.
   */
  @ValidateBy({
    name: 'isWorkerQueueList',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' &&
        splitList(value).length > 0 &&
        splitList(value).every((name) => (WORKER_QUEUES as readonly string[]).includes(name)),
      defaultMessage: () => `must be a comma list of ${WORKER_QUEUES.join(', ')}`,
    },
  })
  WORKER_QUEUES: string = WORKER_QUEUES.join(',');

  /** Comma list of ip[:port] used for domain verification; empty = system resolvers. */
  @IsOptional()
  @ValidateBy({
    name: 'isDnsServerList',
    validator: { validate: isDnsServerList, defaultMessage: () => 'must be a comma list of ip[:port]' },
  })
  DNS_SERVERS?: string;

  /** SMTP attempts before a message is `failed`. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  DELIVERY_MAX_ATTEMPTS = 5;

  /** First retry delay in ms; doubles each attempt. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  DELIVERY_BACKOFF_MS = 30000;

  /** Messages one worker process delivers at the same time. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  DELIVERY_CONCURRENCY = 20;

  /**
   * How long a worker owns a message it is delivering, renewed every third of
   * it while the delivery runs; past it, another worker may retry it (ms).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  DELIVERY_LEASE_MS = 30000;

  /** How often a worker looks for messages that have no queued job (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  SWEEP_INTERVAL_MS = 5000;

  /** How long an unfinished message may wait for its job before the sweeper queues it again (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SWEEP_GRACE_MS = 15000;

  /** How often a worker releases the scheduled messages whose time has come (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  RELEASE_INTERVAL_MS = 1000;

  /** Longest time a request waits for Redis to queue its messages; they are stored first either way (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(30000)
  QUEUE_TIMEOUT_MS = 1000;

  /** Requests per second per API key, shared by all instances; 0 = off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  RATE_LIMIT_RPS = 100;

  /** Requests per second of all API keys of one workspace together; unset = 5 × RATE_LIMIT_RPS. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_WORKSPACE_RPS?: number;

  /**
   * Secret. Key that encrypts DKIM private keys and webhook secrets at rest (AES-256-GCM): 32 bytes
   * as 64 hex characters or base64. Unset: keys are stored unencrypted and a
   * warning is logged at start-up.
   */
  @IsOptional()
  @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, {
    message: 'must be 32 bytes as 64 hex characters or base64',
  })
  DKIM_ENCRYPTION_KEY?: string;

  /**
   * How long a verified API key (with its workspace and owner) and a sendable
   * sender address are cached in memory (ms).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60000)
  AUTH_CACHE_TTL_MS = 5000;

  /** Send requests one instance keeps waiting to be stored; more are answered 503 with Retry-After. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  SEND_QUEUE_LIMIT = 5000;

  /** Port of the SMTP relay ingress (SPEC §11), in the `all` and `api` roles; unset = off. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  SMTP_RELAY_PORT?: number;

  /** PEM file of the relay's certificate; with SMTP_RELAY_TLS_KEY, STARTTLS is offered and AUTH needs it. */
  @IsOptional()
  @IsString()
  @ValidateBy({
    name: 'pairedWithKey',
    validator: {
      validate: (_: unknown, args) => Boolean((args?.object as EnvironmentVariables).SMTP_RELAY_TLS_KEY),
      defaultMessage: () => 'must be set together with SMTP_RELAY_TLS_KEY',
    },
  })
  SMTP_RELAY_TLS_CERT?: string;

  /** Secret. PEM file of the relay certificate's private key; set together with SMTP_RELAY_TLS_CERT. */
  @IsOptional()
  @IsString()
  @ValidateBy({
    name: 'pairedWithCert',
    validator: {
      validate: (_: unknown, args) => Boolean((args?.object as EnvironmentVariables).SMTP_RELAY_TLS_CERT),
      defaultMessage: () => 'must be set together with SMTP_RELAY_TLS_CERT',
    },
  })
  SMTP_RELAY_TLS_KEY?: string;

  /**
   * Domain whose MX is the inbound listener (SPEC §13); when set, every
   * delivery's envelope sender is a signed per-message address at it.
   */
  @IsOptional()
  @Matches(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, {
    message: 'must be a domain name',
  })
  @ValidateBy({
    name: 'hasBounceKey',
    validator: {
      validate: (_: unknown, args) => {
        const vars = args?.object as EnvironmentVariables;
        return Boolean(vars.BOUNCE_SIGNING_KEY || vars.DKIM_ENCRYPTION_KEY);
      },
      defaultMessage: () => 'needs BOUNCE_SIGNING_KEY or DKIM_ENCRYPTION_KEY to sign its addresses',
    },
  })
  BOUNCE_DOMAIN?: string;

  /**
   * Secret. Key of the HMAC that signs the per-message return paths at
   * BOUNCE_DOMAIN, at least 32 characters; unset: derived from
   * DKIM_ENCRYPTION_KEY. Every process must have the same one.
   */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  BOUNCE_SIGNING_KEY?: string;

  /** Port of the inbound listener for bounces and complaints (SPEC §13), in the `all` and `worker` roles; unset = off. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  INBOUND_SMTP_PORT?: number;
  /** Delays before each webhook retry: a comma list of `<n>ms|s|m|h`. */
  @ValidateBy({
    name: 'isRetrySchedule',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseRetrySchedule(value) !== null,
      defaultMessage: () =>
        'must be a comma list of delays like 5s, 5m, 2h or 200ms (at most 50, each at most 168h)',
    },
  })
  WEBHOOK_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';

  /** How long a webhook endpoint may take to answer, connecting included (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(300000)
  WEBHOOK_TIMEOUT_MS = 15000;

  /** `true` lets webhook URLs reach loopback and private addresses (local use, tests). */
  @IsIn(['true', 'false'], { message: 'must be true or false' })
  WEBHOOK_ALLOW_PRIVATE = 'false';

  /** Webhook attempts one worker process makes at the same time. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  WEBHOOK_CONCURRENCY = 20;

  /** How often a worker turns new message events into webhook deliveries (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(60000)
  WEBHOOK_DISPATCH_INTERVAL_MS = 200;

  /** pino log level. */
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsOptional()
  @IsString()
  @MaxLength(32)
  NODE_ENV?: string;
}

export interface AppConfig {
  port: number;
  role: AppRole;
  /** What this process works on in the all and worker roles (none in the api role). */
  workerQueues: ReadonlySet<WorkerQueue>;
  adminToken: string | null;
  /** null: `/metrics` is off. */
  metricsToken: string | null;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  smtpUrl: string;
  dnsServers: string[];
  delivery: {
    maxAttempts: number;
    backoffMs: number;
    concurrency: number;
    leaseMs: number;
    sweepIntervalMs: number;
    sweepGraceMs: number;
    releaseIntervalMs: number;
    queueTimeoutMs: number;
  };
  rateLimitRps: number;
  rateLimitWorkspaceRps: number;
  dkimEncryptionKey: Buffer | null;
  authCacheTtlMs: number;
  sendQueueLimit: number;
  smtpRelay: {
    /** null: the relay is off. */
    port: number | null;
    /** PEM file paths; null: no STARTTLS, AUTH in plain text. */
    tls: { certFile: string; keyFile: string } | null;
  };
  bounce: {
    /** null: envelope senders are the From address and no report can be matched. */
    domain: string | null;
    /** HMAC key of the per-message return paths (BOUNCE_SIGNING_KEY, or derived from DKIM_ENCRYPTION_KEY). */
    signingKey: Buffer | null;
    /** null: the inbound listener is off. */
    inboundPort: number | null;
  };
  webhooks: {
    /** Delay before each retry, in ms. */
    retryScheduleMs: number[];
    timeoutMs: number;
    allowPrivate: boolean;
    concurrency: number;
    dispatchIntervalMs: number;
  };
  logLevel: string;
}

/**
 * The return paths' HMAC key: BOUNCE_SIGNING_KEY as given, or a key derived
 * (HKDF-SHA256) from DKIM_ENCRYPTION_KEY, so that it is never the encryption key itself.
 */
function bounceSigningKey(vars: EnvironmentVariables): Buffer | null {
  if (vars.BOUNCE_SIGNING_KEY) return Buffer.from(vars.BOUNCE_SIGNING_KEY, 'utf8');
  if (!vars.DKIM_ENCRYPTION_KEY) return null;
  return Buffer.from(hkdfSync('sha256', decodeKey(vars.DKIM_ENCRYPTION_KEY), '', 'leadpush return path', 32));
}

const decodeKey = (key: string): Buffer => Buffer.from(key, /^[0-9a-fA-F]{64}$/.test(key) ? 'hex' : 'base64');

/** How many keys of one workspace can use their full RATE_LIMIT_RPS at once, by default. */
const WORKSPACE_RATE_FACTOR = 5;

export class ConfigError extends Error {}

/** Reads and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const vars = plainToInstance(EnvironmentVariables, present, { exposeDefaultValues: true });
  const errors = validateSync(vars, { whitelist: false });
  if (errors.length > 0) {
    const first = errors[0];
    const message = Object.values(first.constraints ?? {})[0] ?? 'is invalid';
    throw new ConfigError(
      `Invalid environment variable ${first.property}: ${message.replace(`${first.property} `, '')}`,
    );
  }
  return {
    port: vars.PORT,
    role: vars.APP_ROLE,
    workerQueues: new Set(vars.APP_ROLE === 'api' ? [] : (splitList(vars.WORKER_QUEUES) as WorkerQueue[])),
    adminToken: vars.ADMIN_TOKEN ?? null,
    metricsToken: vars.METRICS_TOKEN ?? null,
    databaseUrl: vars.DATABASE_URL,
    redisUrl: vars.REDIS_URL,
    queuePrefix: vars.QUEUE_PREFIX,
    smtpUrl: vars.SMTP_URL,
    dnsServers: splitList(vars.DNS_SERVERS),
    delivery: {
      maxAttempts: vars.DELIVERY_MAX_ATTEMPTS,
      backoffMs: vars.DELIVERY_BACKOFF_MS,
      concurrency: vars.DELIVERY_CONCURRENCY,
      leaseMs: vars.DELIVERY_LEASE_MS,
      sweepIntervalMs: vars.SWEEP_INTERVAL_MS,
      sweepGraceMs: vars.SWEEP_GRACE_MS,
      releaseIntervalMs: vars.RELEASE_INTERVAL_MS,
      queueTimeoutMs: vars.QUEUE_TIMEOUT_MS,
    },
    rateLimitRps: vars.RATE_LIMIT_RPS,
    rateLimitWorkspaceRps: vars.RATE_LIMIT_WORKSPACE_RPS ?? WORKSPACE_RATE_FACTOR * vars.RATE_LIMIT_RPS,
    dkimEncryptionKey: vars.DKIM_ENCRYPTION_KEY ? decodeKey(vars.DKIM_ENCRYPTION_KEY) : null,
    authCacheTtlMs: vars.AUTH_CACHE_TTL_MS,
    sendQueueLimit: vars.SEND_QUEUE_LIMIT,
    smtpRelay: {
      port: vars.SMTP_RELAY_PORT ?? null,
      tls:
        vars.SMTP_RELAY_TLS_CERT && vars.SMTP_RELAY_TLS_KEY
          ? { certFile: vars.SMTP_RELAY_TLS_CERT, keyFile: vars.SMTP_RELAY_TLS_KEY }
          : null,
    },
    bounce: {
      domain: vars.BOUNCE_DOMAIN?.toLowerCase() ?? null,
      signingKey: bounceSigningKey(vars),
      inboundPort: vars.INBOUND_SMTP_PORT ?? null,
    },
    webhooks: {
      retryScheduleMs: parseRetrySchedule(vars.WEBHOOK_RETRY_SCHEDULE) ?? [],
      timeoutMs: vars.WEBHOOK_TIMEOUT_MS,
      allowPrivate: vars.WEBHOOK_ALLOW_PRIVATE === 'true',
      concurrency: vars.WEBHOOK_CONCURRENCY,
      dispatchIntervalMs: vars.WEBHOOK_DISPATCH_INTERVAL_MS,
    },
    logLevel: vars.LOG_LEVEL,
  };
}
