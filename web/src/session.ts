/**
 * The signed-in API key. It lives in sessionStorage only: it is gone when the
 * tab closes, it is never written to localStorage or a cookie, and sign-out
 * removes it.
 */
const KEY = 'leadpush.apiKey';

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}

/** A test key (SPEC §14) sends nothing over SMTP; its token starts with `lp_test_`. */
export function isTestToken(token: string): boolean {
  return token.startsWith('lp_test_');
}
