import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * A check of a presented secret (a bearer token, a Basic auth password)
 * against the configured one, in constant time: both are hashed first, so
 * neither the content nor the length of the secret leaks through timing.
 */
export function secretCheck(expected: string): (presented: string | null | undefined) => boolean {
  const want = digest(expected);
  return (presented) => typeof presented === 'string' && timingSafeEqual(digest(presented), want);
}
