import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

const RSA_BITS = 2048;

export interface DkimKeyPair {
  /** The public key as base64 SPKI DER: the `p=` tag of the DKIM record. */
  publicKey: string;
  /** The private key as PKCS#8 PEM. */
  privateKey: string;
}

export interface DnsRecord {
  type: 'TXT';
  name: string;
  value: string;
}

/** Generates a 2048-bit RSA key pair off the event loop. */
export async function generateDkimKeyPair(): Promise<DkimKeyPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: RSA_BITS,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKey: publicKey.toString('base64'), privateKey };
}

/** A DKIM selector: `lp` and 8 random hex digits, a valid DNS label, new for every domain. */
export function newSelector(): string {
  return `lp${randomBytes(4).toString('hex')}`;
}

/** The random value the ownership record must carry: 32 hex digits. */
export function newVerificationToken(): string {
  return randomBytes(16).toString('hex');
}

/** The TXT record proving that the workspace controls the domain. */
export function ownershipRecord(domain: string, token: string): DnsRecord {
  return { type: 'TXT', name: `_leadpush.${domain}`, value: `leadpush-verification=${token}` };
}

/** The TXT record publishing the DKIM public key under the domain's selector. */
export function dkimRecord(domain: string, selector: string, publicKey: string): DnsRecord {
  return { type: 'TXT', name: `${selector}._domainkey.${domain}`, value: `v=DKIM1; k=rsa; p=${publicKey}` };
}

/**
 * Whether a published DKIM record carries the expected one: whitespace is
 * ignored, tags may come in any order, and `v` / `k` may be left out (RFC 6376
 * defaults: DKIM1, rsa), but the public key must be the same.
 */
export function dkimRecordMatches(published: string, expected: string): boolean {
  const want = dkimTags(expected);
  const got = dkimTags(published);
  return (
    got.get('p') === want.get('p') &&
    (got.get('v') ?? 'DKIM1') === want.get('v') &&
    (got.get('k') ?? 'rsa') === want.get('k')
  );
}

function dkimTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.replace(/\s+/g, '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return tags;
}
