import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
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

const LEVELS_WITH_REQUEST_LOGS = new Set(['info', 'debug', 'trace']);

export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
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
