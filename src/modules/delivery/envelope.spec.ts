import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { messageOfReturnPath, returnPathFor } from './envelope';

const KEY = Buffer.from('a'.repeat(32));
const OTHER_KEY = Buffer.from('b'.repeat(32));
const DOMAIN = 'bounces.example.com';

describe('per-message return paths (VERP)', () => {
  it('name their message, within the 64-character local-part limit, whatever the case', () => {
    for (let i = 0; i < 200; i++) {
      const id = randomUUID();
      const address = returnPathFor(id, DOMAIN, KEY);
      expect(address.endsWith(`@${DOMAIN}`)).toBe(true);
      expect(address.slice(0, address.indexOf('@')).length).toBeLessThanOrEqual(64);
      expect(messageOfReturnPath(address, DOMAIN, KEY)).toBe(id);
      expect(messageOfReturnPath(address.toUpperCase(), DOMAIN, KEY)).toBe(id);
    }
  });

  it('answer null for an address signed with another key, at another domain, or altered anywhere', () => {
    const id = randomUUID();
    const address = returnPathFor(id, DOMAIN, KEY);
    expect(messageOfReturnPath(returnPathFor(id, DOMAIN, OTHER_KEY), DOMAIN, KEY)).toBeNull();
    expect(messageOfReturnPath(address.replace(DOMAIN, 'elsewhere.example'), DOMAIN, KEY)).toBeNull();
    const local = address.slice(0, address.indexOf('@'));
    const accepted: string[] = [];
    for (let i = 2; i < local.length; i++) {
      if (local[i] === '-') continue;
      // Every other base32 character, also those that differ only in the uuid's unused last bits.
      for (const char of 'abcdefghijklmnopqrstuvwxyz234567') {
        if (char === local[i]) continue;
        const changed = `${local.slice(0, i)}${char}${local.slice(i + 1)}@${DOMAIN}`;
        if (messageOfReturnPath(changed, DOMAIN, KEY) !== null) accepted.push(changed);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('answer null, never throw, for any other string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(messageOfReturnPath(text, DOMAIN, KEY)).toBeNull();
        expect(messageOfReturnPath(`${text}@${DOMAIN}`, DOMAIN, KEY)).toBeNull();
      }),
    );
  });
});
