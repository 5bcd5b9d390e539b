import { QueryFailedError } from 'typeorm';
import { serializeError } from './logger';

describe('serializeError', () => {
  it("drops the failed statement's parameters and PostgreSQL's detail, at every depth", () => {
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
      detail: 'Key (email)=(ada@example.test) already exists.',
    });
    const error = new QueryFailedError(
      'INSERT INTO users (email) VALUES ($1)',
      ['ada@example.test'],
      driverError,
    );
    const serialized = serializeError(error) as Record<string, unknown>;
    expect(JSON.stringify(serialized)).not.toContain('ada@example.test');
    expect(serialized).toMatchObject({
      type: 'QueryFailedError',
      message: 'duplicate key value violates unique constraint',
      code: '23505',
      query: 'INSERT INTO users (email) VALUES ($1)',
      stack: expect.any(String),
    });
  });

  it('leaves values that are not errors as they are', () => {
    expect(serializeError('boom')).toBe('boom');
  });
});
