import { randomUUID } from 'node:crypto';
import { ValidationFailedError } from '../errors';
import { decodeCursor, encodeCursor } from './cursor';

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const uuid = randomUUID();

describe('decodeCursor', () => {
  it('decodes what encodeCursor wrote', () => {
    const cursor = { createdAt: new Date('2026-11-30T12:34:56.789Z'), id: uuid };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(decodeCursor(undefined)).toBeNull();
  });

  it.each([
    ['a date PostgreSQL cannot store', ['-100000-01-01T00:00:00.000Z', uuid]],
    ['the last date JavaScript knows', ['+275760-09-13T00:00:00.000Z', uuid]],
    ['a year before 1970', ['1969-12-31T23:59:59.999Z', uuid]],
    ['a date without time', ['2026-01-01', uuid]],
    ['an offset instead of Z', ['2026-01-01T00:00:00.000+01:00', uuid]],
    ['a day that does not exist', ['2026-02-30T00:00:00.000Z', uuid]],
    ['a number for a date', [1764547200000, uuid]],
    ['an id that is no uuid', ['2026-01-01T00:00:00.000Z', 'x']],
    ['an id that is no string', ['2026-01-01T00:00:00.000Z', 5]],
    ['a third element', ['2026-01-01T00:00:00.000Z', uuid, 'x']],
    ['an object', { at: '2026-01-01T00:00:00.000Z', id: uuid }],
  ])('refuses %s', (_, value) => {
    expect(() => decodeCursor(raw(value))).toThrow(ValidationFailedError);
  });

  it.each(['', '!!!', 'bnVsbA', Buffer.from('[').toString('base64url')])(
    'refuses %j, which is no JSON array',
    (text) => {
      expect(() => decodeCursor(text)).toThrow(ValidationFailedError);
    },
  );

  it('refuses ids PostgreSQL cannot store, whatever the list accepts as an id', () => {
    const anyId = () => true;
    for (const id of ['a\u0000@x.test', '\ud800@x.test', 'a@x.test\udfff']) {
      expect(() => decodeCursor(raw(['2026-01-01T00:00:00.000Z', id]), anyId)).toThrow(ValidationFailedError);
    }
    expect(decodeCursor(raw(['2026-01-01T00:00:00.000Z', 'a@x.test']), anyId)?.id).toBe('a@x.test');
  });

  it('names the cursor field', () => {
    try {
      decodeCursor(raw(['+275760-09-13T00:00:00.000Z', uuid]));
      throw new Error('no error');
    } catch (error) {
      expect((error as ValidationFailedError).errors).toEqual([
        { field: 'cursor', message: 'cursor is malformed' },
      ]);
    }
  });
});
