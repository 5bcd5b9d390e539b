import { authenticate } from 'mailauth';
import { createTransport } from 'nodemailer';
import {
  dkimRecord,
  dkimRecordMatches,
  generateDkimKeyPair,
  newSelector,
  newVerificationToken,
  ownershipRecord,
} from './dkim';

/** A DNS resolver for mailauth serving TXT records, each split into 255-character strings as DNS does. */
function resolverFor(records: Record<string, string>) {
  return async (name: string, rrtype: string): Promise<string[][]> => {
    const value = rrtype === 'TXT' ? records[name] : undefined;
    if (value === undefined) throw Object.assign(new Error(`no ${rrtype} at ${name}`), { code: 'ENOTFOUND' });
    return [value.match(/.{1,255}/g)!];
  };
}

async function signedMessage(privateKey: string, selector: string): Promise<Buffer> {
  const transport = createTransport({
    streamTransport: true,
    buffer: true,
    dkim: { domainName: 'mail.example.test', keySelector: selector, privateKey },
  });
  const info = await transport.sendMail({
    from: 'billing@mail.example.test',
    to: 'rcpt@elsewhere.test',
    subject: 'Your receipt',
    text: 'Thanks for your order.',
  });
  return info.message as Buffer;
}

async function dkimResult(message: Buffer, records: Record<string, string>): Promise<string[]> {
  const result = await authenticate(message, {
    resolver: resolverFor(records),
    ip: '127.0.0.1',
    helo: 'localhost',
    sender: 'billing@mail.example.test',
    disableArc: true,
    disableDmarc: true,
    disableBimi: true,
  });
  return result.dkim.results.map((r) => r.status.result);
}

describe('DKIM keys', () => {
  it('signs mail that verifies as pass against the published record, and fails against another key', async () => {
    const keys = await generateDkimKeyPair();
    const other = await generateDkimKeyPair();
    const selector = newSelector();
    const record = dkimRecord('mail.example.test', selector, keys.publicKey);
    const message = await signedMessage(keys.privateKey, selector);

    expect(record.value.length).toBeGreaterThan(255);
    expect(await dkimResult(message, { [record.name]: record.value })).toEqual(['pass']);
    const wrong = dkimRecord('mail.example.test', selector, other.publicKey);
    expect(await dkimResult(message, { [wrong.name]: wrong.value })).toEqual(['fail']);
  });

  it('generates 2048-bit RSA keys: a PKCS#8 PEM and a base64 SPKI public key', async () => {
    const { publicKey, privateKey } = await generateDkimKeyPair();
    expect(privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(publicKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(publicKey, 'base64')).toHaveLength(294);
  });
});

describe('DNS records', () => {
  it('formats the ownership and DKIM records', () => {
    expect(ownershipRecord('mail.example.test', 'abc123')).toEqual({
      type: 'TXT',
      name: '_leadpush.mail.example.test',
      value: 'leadpush-verification=abc123',
    });
    expect(dkimRecord('mail.example.test', 'lp0a1b2c3d', 'MIIBIjAN')).toEqual({
      type: 'TXT',
      name: 'lp0a1b2c3d._domainkey.mail.example.test',
      value: 'v=DKIM1; k=rsa; p=MIIBIjAN',
    });
  });

  it('makes selectors that are DNS labels and tokens of 32 hex digits, new each time', () => {
    const selectors = new Set(Array.from({ length: 50 }, newSelector));
    expect(selectors.size).toBe(50);
    for (const selector of selectors) expect(selector).toMatch(/^lp[0-9a-f]{8}$/);
    expect(newVerificationToken()).toMatch(/^[0-9a-f]{32}$/);
    expect(newVerificationToken()).not.toBe(newVerificationToken());
  });

  it.each([
    ['the same value', 'v=DKIM1; k=rsa; p=ABCD'],
    ['other whitespace', 'v=DKIM1;k=rsa;  p=AB CD '],
    ['tags in another order', 'p=ABCD; v=DKIM1; k=rsa'],
    ['v and k left to their defaults', 'p=ABCD'],
    ['extra tags', 'v=DKIM1; k=rsa; t=s; p=ABCD'],
  ])('accepts a DKIM record with %s', (_, published) => {
    expect(dkimRecordMatches(published, 'v=DKIM1; k=rsa; p=ABCD')).toBe(true);
  });

  it.each([
    ['another key', 'v=DKIM1; k=rsa; p=ABCE'],
    ['a truncated key', 'v=DKIM1; k=rsa; p=ABC'],
    ['another key type', 'v=DKIM1; k=ed25519; p=ABCD'],
    ['another version', 'v=DKIM2; k=rsa; p=ABCD'],
    ['no key', 'v=DKIM1; k=rsa'],
    ['something else', 'leadpush-verification=ABCD'],
  ])('refuses a DKIM record with %s', (_, published) => {
    expect(dkimRecordMatches(published, 'v=DKIM1; k=rsa; p=ABCD')).toBe(false);
  });
});
