import { secretCheck } from './secret-check';

describe('secretCheck', () => {
  const matches = secretCheck('s3cret-token-value');

  it('takes the configured secret', () => {
    expect(matches('s3cret-token-value')).toBe(true);
  });

  it('refuses any other value, a prefix, a longer one and nothing', () => {
    expect(matches('s3cret-token-valuE')).toBe(false);
    expect(matches('s3cret')).toBe(false);
    expect(matches('s3cret-token-value-and-more')).toBe(false);
    expect(matches('')).toBe(false);
    expect(matches(null)).toBe(false);
    expect(matches(undefined)).toBe(false);
  });
});
