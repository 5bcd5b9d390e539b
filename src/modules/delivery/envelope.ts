import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../../config/app-config';
import type { SenderAddress } from '../addresses/sender-address';
import type { DeliverableMessage } from '../messages/message-lifecycle';

/** BOUNCE_DOMAIN and the key that signs its addresses (SPEC §13). */
export type ReturnPathConfig = AppConfig['bounce'];

/**
 * The SMTP envelope sender (`MAIL FROM`) of a message: where the relay and
 * receivers report rejections. With BOUNCE_DOMAIN set, a per-message address
 * there (see returnPathFor); otherwise the From address.
 */
export function envelopeSender(
  message: DeliverableMessage,
  sender: SenderAddress,
  returnPath: ReturnPathConfig,
): string {
  const { domain, signingKey } = returnPath;
  if (!domain || !signingKey) return sender.email;
  return returnPathFor(message.messageId, domain, signingKey);
}

const PREFIX = 'b-';
/** 80 bits of HMAC-SHA256: a forger must guess it, and every wrong guess changes nothing. */
const MAC_BYTES = 10;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** `b-` + 26 base32 characters of the uuid + `-` + 16 of the MAC. */
const LOCAL_PART_RE = /^b-([a-z2-7]{26})-([a-z2-7]{16})$/;

/**
 * The per-message return path (VERP): `b-<uuid>-<mac>@<domain>`, the uuid's
 * 16 bytes and a truncated HMAC over them in lowercase base32, 45 characters
 * of local part (the limit is 64), and case-insensitive, since some MTAs
 * change the case of local parts.
 */
export function returnPathFor(messageId: string, domain: string, key: Buffer): string {
  const id = uuidBytes(messageId);
  return `${PREFIX}${base32(id)}-${base32(mac(id, key))}@${domain}`;
}

/**
 * The message a return path names, when `address` is one this key signed at
 * `domain`; null for any other, forged or altered address.
 */
export function messageOfReturnPath(address: string, domain: string, key: Buffer): string | null {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return null;
  const match = LOCAL_PART_RE.exec(address.slice(0, at).toLowerCase());
  if (!match) return null;
  const id = unbase32(match[1]).subarray(0, 16);
  // 26 characters carry 130 bits: only the one spelling returnPathFor writes names the message.
  if (base32(id) !== match[1]) return null;
  const given = unbase32(match[2]).subarray(0, MAC_BYTES);
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(id, key))) return null;
  const hex = id.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function uuidBytes(uuid: string): Buffer {
  const lower = uuid.toLowerCase();
  if (!UUID_RE.test(lower)) throw new Error('not a uuid');
  return Buffer.from(lower.replace(/-/g, ''), 'hex');
}

function mac(id: Buffer, key: Buffer): Buffer {
  return createHmac('sha256', key)
    .update('leadpush return path\0')
    .update(id)
    .digest()
    .subarray(0, MAC_BYTES);
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lowercase, unpadded. */
function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text) {
    value = ((value << 5) | ALPHABET.indexOf(char)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}
