import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { AppError, InvalidJsonError, PayloadTooLargeError } from './app-error';
import { isUnavailable } from './sqlstate';

interface Envelope {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const HTTP_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_failed',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/** A body-parser limit in bytes as people write it: `10 MB`, `100 kB`. */
function describeBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} kB`;
  return `${bytes} bytes`;
}

/**
 * Errors raised by body-parser before a controller runs (Nest wraps them in an
 * HttpException whose cause is the original error).
 */
function fromBodyParser(exception: unknown): AppError | null {
  const error = exception instanceof HttpException && exception.cause ? exception.cause : exception;
  const { type, limit } = (error ?? {}) as { type?: unknown; limit?: unknown };
  if (type === 'entity.parse.failed') return new InvalidJsonError();
  if (type === 'entity.too.large') {
    return typeof limit === 'number'
      ? new PayloadTooLargeError(`Request body is larger than ${describeBytes(limit)}`)
      : new PayloadTooLargeError();
  }
  if ((typeof type === 'string' && type.startsWith('encoding.')) || type === 'charset.unsupported') {
    return new AppError(415, 'unsupported_media_type', 'Unsupported body encoding or charset');
  }
  return null;
}

/** The single place that turns any thrown value into the SPEC §3 JSON envelope. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const { id } = http.getRequest<{ id?: unknown }>();
    const { status, body, headers } = this.toEnvelope(exception, typeof id === 'string' ? id : undefined);
    if (response.headersSent) return;
    for (const [name, value] of Object.entries(headers ?? {})) response.setHeader(name, value);
    response.status(status).json(body);
  }

  /** The envelope for `exception`; a 5xx is logged, with the id of the request it answers when there is one. */
  toEnvelope(exception: unknown, requestId?: string): Envelope {
    const appError = exception instanceof AppError ? exception : fromBodyParser(exception);
    if (appError) {
      return {
        status: appError.status,
        body: { error: appError.code, message: appError.message, ...appError.extra },
        headers: appError.headers,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status < 500) {
        const cause = exception.getResponse();
        const message =
          typeof cause === 'object' && cause !== null && 'message' in cause
            ? String((cause as { message: unknown }).message)
            : exception.message;
        return { status, body: { error: HTTP_CODES[status] ?? 'bad_request', message } };
      }
    }
    if (isUnavailable(exception)) {
      this.logger.error({ err: exception, requestId }, 'Database unavailable');
      return {
        status: 503,
        body: { error: 'service_unavailable', message: 'The database is unavailable; retry shortly' },
        headers: { 'Retry-After': '5' },
      };
    }
    const errorId = randomUUID();
    this.logger.error(
      { err: exception, errorId, requestId },
      `Unhandled error ${errorId}: ${exception instanceof Error ? exception.message : String(exception)}`,
    );
    return {
      status: 500,
      body: { error: 'internal_error', message: 'Internal server error', error_id: errorId },
    };
  }
}
