import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import { stdSerializers } from 'pino';
import { AppConfig } from './config/app-config';

/** Paths pino never writes: credentials in headers and bodies. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.token',
  '*.password',
  '*.privateKey',
  '*.private_key',
  '*.smtpUrl',
];

/**
 * Error fields that echo the data of a failed statement: TypeORM's bound
 * `parameters` and PostgreSQL's `detail` ("Key (email)=(…) already exists").
 */
const DATA_FIELDS = new Set(['parameters', 'detail']);

function withoutDataFields(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => withoutDataFields(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !DATA_FIELDS.has(key))
      .map(([key, item]) => [key, withoutDataFields(item, depth + 1)]),
  );
}

/** pino's error serializer, minus the fields that hold the rows' data, at any depth (TypeORM's `driverError`). */
export function serializeError(error: unknown): unknown {
  return withoutDataFields(error instanceof Error ? stdSerializers.err(error) : error);
}

const LEVELS_WITH_REQUEST_LOGS = new Set(['info', 'debug', 'trace']);

type RequestWithId = IncomingMessage & { id?: unknown };

/** The request's id: the caller's X-Request-Id when it is a plain token of at most 64 characters, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
}

/**
 * Gives every request its id (`req.id`), which the send path hands on to the
 * delivery logs; the request logger, where it runs, has given it one already.
 */
export function assignRequestId(req: RequestWithId, _res: unknown, next: () => void): void {
  req.id ??= requestIdOf(req);
  next();
}

/**
 * pino through nestjs-pino. At `info` and below, pino-http writes one line
 * per request, and every line logged while a request is handled carries the
 * request (nestjs-pino runs the request in an AsyncLocalStorage scope). Above
 * `info`, requests get neither: on Node 20 that scope makes every promise
 * pay an async hook, and with pino-http it was about a quarter of the API's
 * CPU per request (bench/README.md). Errors answered 5xx still name their
 * request (AllExceptionsFilter).
 */
export function loggerOptions(config: AppConfig): Params {
  const requestLogs = LEVELS_WITH_REQUEST_LOGS.has(config.logLevel);
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError },
      genReqId: requestIdOf,
      customProps: (req: RequestWithId) => ({ requestId: req.id }),
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' },
    },
    ...(requestLogs ? {} : { forRoutes: [] }),
  };
}
