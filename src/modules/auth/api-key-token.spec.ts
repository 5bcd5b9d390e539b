import { isApiKeyToken, newApiKeyToken, shownTokenPrefix } from './api-key-token';

describe('API key token shape', () => {
  it('accepts the tokens it makes, and the test-mode shape', () => {
    for (let i = 0; i < 50; i++) {
      expect(isApiKeyToken(newApiKeyToken('live'))).toBe(true);
      expect(isApiKeyToken(newApiKeyToken('test'))).toBe(true);
    }
    expect(newApiKeyToken('test')).toMatch(/^lp_test_/);
    expect(newApiKeyToken('live')).not.toMatch(/^lp_test_/);
    expect(isApiKeyToken(`lp_test_${'A'.repeat(43)}`)).toBe(true);
    expect(isApiKeyToken(`lp_${'-_aZ09'.repeat(7)}x`)).toBe(true);
  });

  it('shows the mode prefix and five random characters of a token', () => {
    const live = newApiKeyToken('live');
    const test = newApiKeyToken('test');
    expect(shownTokenPrefix(live, 'live')).toBe(live.slice(0, 8));
    expect(shownTokenPrefix(test, 'test')).toBe(test.slice(0, 13));
  });

  it.each([
    ['empty', ''],
    ['no prefix', 'A'.repeat(46)],
    ['other prefix', `sk_${'A'.repeat(43)}`],
    ['one character short', `lp_${'A'.repeat(42)}`],
    ['one character long', `lp_${'A'.repeat(44)}`],
    ['test prefix, short', `lp_test_${'A'.repeat(42)}`],
    ['standard base64 characters', `lp_${'A'.repeat(41)}+/`],
    ['padding', `lp_${'A'.repeat(42)}=`],
    ['a newline at the end', `lp_${'A'.repeat(43)}\n`],
    ['upper-case prefix', `LP_${'A'.repeat(43)}`],
  ])('refuses %s', (_, token) => {
    expect(isApiKeyToken(token)).toBe(false);
  });
});
