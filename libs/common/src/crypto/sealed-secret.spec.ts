import { openSecret, sealSecret } from './sealed-secret';

const KEY = Buffer.alloc(32, 7);

describe('secrets at rest', () => {
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

  it('seals with AES-256-GCM and opens again', () => {
    const sealed = sealSecret(pem, KEY);
    expect(sealed).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(sealed).not.toContain('MIIEvQ');
    expect(sealSecret(pem, KEY)).not.toBe(sealed);
    expect(openSecret(sealed, KEY)).toBe(pem);
  });

  it('refuses a tampered value, a cut tag and another key', () => {
    const sealed = sealSecret(pem, KEY);
    const [version, iv, tag, ciphertext] = sealed.split(':');
    const bytes = Buffer.from(ciphertext, 'base64');
    bytes[3] ^= 1;
    const tampered = [version, iv, tag, bytes.toString('base64')].join(':');
    expect(() => openSecret(tampered, KEY)).toThrow();
    const cutTag = [version, iv, Buffer.from(tag, 'base64').subarray(0, 4).toString('base64'), ciphertext];
    expect(() => openSecret(cutTag.join(':'), KEY)).toThrow();
    expect(() => openSecret(sealed, Buffer.alloc(32, 8))).toThrow();
    expect(() => openSecret('v1:garbage', KEY)).toThrow('Malformed');
  });

  it('stores the plain secret without an encryption key, and needs the key to open a sealed one', () => {
    expect(sealSecret(pem, null)).toBe(`plain:${pem}`);
    expect(openSecret(`plain:${pem}`, null)).toBe(pem);
    expect(openSecret(`plain:${pem}`, KEY)).toBe(pem);
    expect(() => openSecret(sealSecret(pem, KEY), null)).toThrow('DKIM_ENCRYPTION_KEY');
    expect(() => openSecret(pem, KEY)).toThrow('Unknown');
  });
});
