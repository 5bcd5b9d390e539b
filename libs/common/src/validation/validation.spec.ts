import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { flattenValidationErrors } from './validation.pipe';
import { codePointsAtMost, IsNormalizedEmail, isValidEmail, MAX_EMAIL_LENGTH } from './decorators';

class Sample {
  @IsNormalizedEmail()
  from: string;
}

function errorsOf(plain: object) {
  return flattenValidationErrors(validateSync(plainToInstance(Sample, plain)));
}

describe('validation vocabulary', () => {
  it('accepts a valid object and normalizes the email', () => {
    const sample = plainToInstance(Sample, { from: ' Me@Example.TEST ' });
    expect(validateSync(sample)).toEqual([]);
    expect(sample.from).toBe('me@example.test');
  });

  it('validates addresses as they are stored: lower-cased İ grows past 254 characters', () => {
    const address = `${'İ'.repeat(21)}@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(40)}.test`;
    expect(address.length).toBeLessThanOrEqual(MAX_EMAIL_LENGTH);
    expect(isValidEmail(address)).toBe(true);
    expect(address.toLowerCase().length).toBeGreaterThan(MAX_EMAIL_LENGTH);
    expect(errorsOf({ from: address })).toEqual([
      { field: 'from', message: 'from must be a valid email address' },
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
