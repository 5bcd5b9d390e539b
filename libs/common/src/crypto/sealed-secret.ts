import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_PREFIX = 'v1:';
const PLAIN_PREFIX = 'plain:';

/**
 * The form a secret (a DKIM private key, a webhook signing secret) is stored
 * in: `v1:<iv>:<tag>:<ciphertext>` (base64, AES-256-GCM) with the encryption
 * key (DKIM_ENCRYPTION_KEY), `plain:<secret>` without one.
 */
export function sealSecret(secret: string, key: Buffer | null): string {
  if (!key) return PLAIN_PREFIX + secret;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, key, iv);
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return SEALED_PREFIX + [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64')).join(':');
}

/**
 * A stored secret in clear. Throws when a sealed one cannot be opened: no or
 * another encryption key, or a tampered value.
 */
export function openSecret(stored: string, key: Buffer | null): string {
  if (stored.startsWith(PLAIN_PREFIX)) return stored.slice(PLAIN_PREFIX.length);
  if (!stored.startsWith(SEALED_PREFIX)) throw new Error('Unknown stored secret format');
  if (!key) throw new Error('Secret is encrypted but DKIM_ENCRYPTION_KEY is not set');
  const [iv, tag, ciphertext] = stored
    .slice(SEALED_PREFIX.length)
    .split(':')
    .map((part) => Buffer.from(part, 'base64'));
  if (!iv || !tag || !ciphertext) throw new Error('Malformed encrypted secret');
  const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
}
