import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { findNulStrings, flattenValidationErrors } from './validation.pipe';
import { IsEmailList, IsHeaderMap, IsNormalizedEmail } from './decorators';

class Sample {
  @IsNormalizedEmail()
  from: string;

  @IsEmailList(3)
  to?: string[];

  @IsHeaderMap({
    maxHeaders: 4,
    maxValueLength: 10,
    reserved: new Set(['subject']),
    reservedPrefix: 'x-app-',
    allowedUnderPrefix: new Set(['x-app-tag']),
  })
  headers: Record<string, string>;
}

function errorsOf(plain: object) {
  return flattenValidationErrors(validateSync(plainToInstance(Sample, plain)));
}

describe('validation vocabulary', () => {
  it('accepts a valid object and normalizes the email', () => {
    const sample = plainToInstance(Sample, { from: ' Me@Example.TEST ', headers: { 'X-App-Tag': 'a' } });
    expect(validateSync(sample)).toEqual([]);
    expect(sample.from).toBe('me@example.test');
  });

  it('names each bad list element and each bad header', () => {
    const fields = errorsOf({
      from: 'not an email',
      to: ['ok@example.test', 'nope', 'also@bad'],
      headers: { SUBJECT: 'x', 'Bad Name': 'x', 'X-App-Other': 'x', Long: 'x'.repeat(11) },
    }).map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'from',
        'to[1]',
        'to[2]',
        'headers.SUBJECT',
        'headers.Bad Name',
        'headers.X-App-Other',
        'headers.Long',
      ]),
    );
  });

  it('reports whole-property problems on the property itself', () => {
    expect(errorsOf({ from: 'a@b.test', to: 'x', headers: ['a'] })).toEqual([
      { field: 'to', message: 'to must be an array of email addresses' },
      { field: 'headers', message: 'headers must be an object of header names to string values' },
    ]);
    expect(
      errorsOf({ from: 'a@b.test', headers: { 'X-A': 'a', 'X-B': 'b', 'X-C': 'c', 'X-D': 'd', 'X-E': 'e' } }),
    ).toEqual([{ field: 'headers', message: 'headers must contain at most 4 headers' }]);
  });

  it('refuses header values with line breaks or of other types', () => {
    expect(errorsOf({ from: 'a@b.test', headers: { 'X-A': 'a\r\nBcc: x@y.test', 'X-B': 5 } })).toEqual([
      { field: 'headers.X-A', message: 'header value must not contain line breaks' },
      { field: 'headers.X-B', message: 'header value must be a string' },
    ]);
  });
});

describe('findNulStrings', () => {
  it('finds NUL characters in nested strings and keys, with their paths', () => {
    expect(findNulStrings({ a: 'ok', b: ['x', 'y\0'], c: { 'k\0': 1, d: '\0' } })).toEqual([
      'b[1]',
      'c.k\0',
      'c.d',
    ]);
    expect(findNulStrings('\0', 'id')).toEqual(['id']);
    expect(findNulStrings({ a: 1, b: null, c: ['fine'] })).toEqual([]);
  });
});
