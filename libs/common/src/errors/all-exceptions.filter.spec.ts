import { BadRequestException, NotFoundException } from '@nestjs/common';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { ConflictError, RateLimitedError } from './app-error';

describe('AllExceptionsFilter.toEnvelope', () => {
  const filter = new AllExceptionsFilter();
  const logged: unknown[][] = [];
  (filter as unknown as { logger: { error: (...args: unknown[]) => void } }).logger = {
    error: (...args) => logged.push(args),
  };
  beforeEach(() => (logged.length = 0));

  it('maps domain errors with their code, extra fields and headers', () => {
    expect(filter.toEnvelope(new ConflictError('dup', 'idempotency_key_reused'))).toEqual({
      status: 409,
      body: { error: 'idempotency_key_reused', message: 'dup' },
      headers: {},
    });
    expect(filter.toEnvelope(new RateLimitedError(1)).headers).toEqual({ 'Retry-After': '1' });
  });

  it('maps body-parser failures wrapped by Nest', () => {
    const parse = new BadRequestException('Unexpected token', { cause: { type: 'entity.parse.failed' } });
    expect(filter.toEnvelope(parse).body.error).toBe('invalid_json');
    const large = new BadRequestException('too large', { cause: { type: 'entity.too.large' } });
    expect(filter.toEnvelope(large)).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
  });

  it('names the limit a body broke', () => {
    const tooLarge = (limit: number) =>
      filter.toEnvelope(new BadRequestException('too large', { cause: { type: 'entity.too.large', limit } }));
    expect(tooLarge(10 * 1024 * 1024).body.message).toBe('Request body is larger than 10 MB');
    expect(tooLarge(100 * 1024).body.message).toBe('Request body is larger than 100 kB');
    expect(tooLarge(1000).body.message).toBe('Request body is larger than 1000 bytes');
  });

  it('maps Nest 4xx exceptions to their code', () => {
    expect(filter.toEnvelope(new NotFoundException('Cannot GET /x'))).toEqual({
      status: 404,
      body: { error: 'not_found', message: 'Cannot GET /x' },
    });
  });

  it('answers 503 when the database cannot be reached', () => {
    for (const error of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
    ]) {
      expect(filter.toEnvelope(error)).toMatchObject({ status: 503, body: { error: 'service_unavailable' } });
    }
  });

  it('answers anything else with a 500 that leaks nothing', () => {
    const envelope = filter.toEnvelope(new TypeError('secret internals at line 42'));
    expect(envelope.status).toBe(500);
    expect(envelope.body).toEqual({
      error: 'internal_error',
      message: 'Internal server error',
      error_id: expect.any(String),
    });
  });

  it('logs a 5xx with the id of the request it answers, and a 4xx not at all', () => {
    const envelope = filter.toEnvelope(new TypeError('boom'), 'trace-me-44');
    filter.toEnvelope(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'trace-me-45',
    );
    filter.toEnvelope(new NotFoundException('Cannot GET /x'), 'trace-me-46');
    expect(logged.map(([fields]) => fields)).toEqual([
      { err: expect.any(TypeError), errorId: envelope.body.error_id, requestId: 'trace-me-44' },
      { err: expect.any(Error), requestId: 'trace-me-45' },
    ]);
  });
});
