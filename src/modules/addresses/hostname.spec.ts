import { isHostname, normalizeHostname } from './hostname';

describe('hostnames', () => {
  it('normalizes: trims, lower-cases, drops one trailing dot', () => {
    expect(normalizeHostname('  Mail.Example.COM.  ')).toBe('mail.example.com');
    expect(normalizeHostname(42)).toBe(42);
  });

  it.each([
    'example.com',
    'mail.example.com',
    'a.b.c.d.example.co.uk',
    'x1.io',
    'my-company.example',
    'xn--bcher-kva.example',
    '1password.com',
    `${'a'.repeat(63)}.com`,
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
  ])('accepts %s', (name) => {
    expect(isHostname(name)).toBe(true);
  });

  it.each([
    ['a single label', 'localhost'],
    ['an empty string', ''],
    ['an empty label', 'mail..example.com'],
    ['a leading dot', '.example.com'],
    ['a leading hyphen', '-mail.example.com'],
    ['a trailing hyphen', 'mail-.example.com'],
    ['an underscore', '_leadpush.example.com'],
    ['a space', 'mail example.com'],
    ['upper case (not normalized)', 'Example.com'],
    ['a label over 63 characters', `${'a'.repeat(64)}.com`],
    ['over 253 characters', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`],
    ['an IPv4 address', '192.168.0.1'],
    ['non-ASCII', 'bücher.example'],
    ['an email address', 'user@example.com'],
    ['a URL', 'https://example.com'],
    ['a non-string', 42],
  ])('refuses %s', (_, name) => {
    expect(isHostname(name)).toBe(false);
  });
});
