import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { flattenValidationErrors } from './validation.pipe';
import {
  codePointsAtMost,
  IsEmailList,
  IsHeaderMap,
  IsNormalizedEmail,
  isValidEmail,
  MAX_EMAIL_LENGTH,
} from './decorators';

class Sample {
  @IsNormalizedEmail()
  from: string;

  @IsEmailList(3)
  to?: string[];

  @IsHeaderMap({
    maxHeaders: 4,
    maxValueLength: 10,
    reserved: new Set(['subject']),
    reservedPrefixes: ['x-app-', 'content-'],
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

  it('reserves every name under each reserved prefix, except the allowed ones', () => {
    expect(
      errorsOf({
        from: 'a@b.test',
        headers: { 'Content-Disposition': 'x', 'CONTENT-ID': 'x', 'X-App-Tag': 'a' },
      }),
    ).toEqual([
      { field: 'headers.Content-Disposition', message: 'headers starting with Content- are reserved' },
      { field: 'headers.CONTENT-ID', message: 'headers starting with CONTENT- are reserved' },
    ]);
  });

  it('validates list addresses as they are stored: lower-cased İ grows past 254 characters', () => {
    const address = `${'İ'.repeat(21)}@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(40)}.test`;
    expect(address.length).toBeLessThanOrEqual(MAX_EMAIL_LENGTH);
    expect(isValidEmail(address)).toBe(true);
    expect(address.toLowerCase().length).toBeGreaterThan(MAX_EMAIL_LENGTH);
    expect(errorsOf({ from: address, to: ['ok@example.test', address], headers: {} })).toEqual([
      { field: 'from', message: 'from must be a valid email address' },
      { field: 'to[1]', message: 'must be a valid email address' },
    ]);
  });
});

describe('isValidEmail', () => {
  it.each([
    '\ud800@x.test',
    'a@x\udfff.test',
    'a\u0000@x.test',
    '"a\r\nb"@x.test',
    '"a\nBcc: c@x.test"@x.test',
    '"a<b"@x.test',
    '"a>b"@x.test',
    '"a,b"@x.test',
    '"a\u0007b"@x.test',
    '"a\u0085b"@x.test',
    'a@b.test, c@d.test',
    '<a@b.test>',
  ])('refuses %j without throwing', (address) => {
    expect(isValidEmail(address)).toBe(false);
  });

  it.each(['a@b.test', '"a b"@x.test', 'first.last+tag@sub.example.com', 'ä@x.test'])(
    'accepts %j',
    (address) => {
      expect(isValidEmail(address)).toBe(true);
    },
  );
});

describe('codePointsAtMost', () => {
  it('counts code points, as PostgreSQL counts varchar characters', () => {
    expect(codePointsAtMost('😀'.repeat(200), 200)).toBe(true);
    expect(codePointsAtMost('😀'.repeat(201), 200)).toBe(false);
    expect(codePointsAtMost('a\ufe0f'.repeat(100), 200)).toBe(true);
    expect(codePointsAtMost('a\ufe0f'.repeat(101), 200)).toBe(false);
    expect(codePointsAtMost('x'.repeat(10_000_000), 200)).toBe(false);
    expect(codePointsAtMost('', 0)).toBe(true);
  });
});
