import { createHash, randomBytes } from 'node:crypto';

/**
 * The shape of an API key token: `lp_` (live) or `lp_test_` (test mode,
 * SPEC §4) followed by 32 random bytes as base64url (43 characters).
 */
const TOKEN_SHAPE = /^lp_(test_)?[A-Za-z0-9_-]{43}$/;

/** A new live token. */
export function newApiKeyToken(): string {
  return `lp_${randomBytes(32).toString('base64url')}`;
}

/** Whether `token` can be an API key at all; anything else is refused without a database query. */
export function isApiKeyToken(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** What is stored of a token: its SHA-256. */
export function hashApiKeyToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
