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

export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError },
      genReqId: (req: IncomingMessage) => {
        const given = req.headers['x-request-id'];
        return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
      },
      customProps: (req: IncomingMessage) => ({ requestId: (req as IncomingMessage & { id?: unknown }).id }),
      // One line per request at info; above info, skip the per-request work entirely.
      autoLogging: LEVELS_WITH_REQUEST_LOGS.has(config.logLevel)
        ? { ignore: (req: IncomingMessage) => req.url === '/health' }
        : false,
    },
  };
}
