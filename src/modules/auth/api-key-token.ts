import { createHash, randomBytes } from 'node:crypto';

/**
 * The shape of an API key token: `lp_` (live) or `lp_test_` (test mode,
 * SPEC §4) followed by 32 random bytes as base64url (43 characters).
 */
const TOKEN_SHAPE = /^lp_(test_)?[A-Za-z0-9_-]{43}$/;

export const API_KEY_MODES = ['live', 'test'] as const;
export type ApiKeyMode = (typeof API_KEY_MODES)[number];

const MODE_PREFIX: Record<ApiKeyMode, string> = { live: 'lp_', test: 'lp_test_' };
/** Random characters shown after the mode's prefix, so a user can tell keys apart. */
const SHOWN_RANDOM_CHARS = 5;

/** A new token of `mode`. */
export function newApiKeyToken(mode: ApiKeyMode): string {
  return `${MODE_PREFIX[mode]}${randomBytes(32).toString('base64url')}`;
}

/** What may be shown of a token of `mode`: its prefix and a few random characters. */
export function shownTokenPrefix(token: string, mode: ApiKeyMode): string {
  return token.slice(0, MODE_PREFIX[mode].length + SHOWN_RANDOM_CHARS);
}

/** Whether `token` can be an API key at all; anything else is refused without a database query. */
export function isApiKeyToken(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** What is stored of a token: its SHA-256. */
export function hashApiKeyToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
