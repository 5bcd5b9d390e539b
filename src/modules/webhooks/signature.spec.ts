import { Webhook } from 'standardwebhooks';
import { newSigningSecret, signatureHeader, signingKey } from './signature';

describe('webhook signatures', () => {
  it('makes secrets of whsec_ and 32 random bytes in base64', () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(secret);
  });

  it('signs as the Standard Webhooks reference library does, and it verifies the result', () => {
    const secret = newSigningSecret();
    const body = '{"type":"message.sent","data":{"x":"é"}}';
    const timestamp = Math.floor(Date.now() / 1000);
    const header = signatureHeader(signingKey(secret), 'evt_42', timestamp, body);
    const reference = new Webhook(secret);
    expect(header).toBe(reference.sign('evt_42', new Date(timestamp * 1000), body));
    const headers = {
      'webhook-id': 'evt_42',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': header,
    };
    expect(reference.verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => reference.verify(body.replace('é', 'e'), headers)).toThrow();
    expect(() => reference.verify(body, { ...headers, 'webhook-id': 'evt_43' })).toThrow();
  });

  it('matches a known vector of the specification', () => {
    // From the Standard Webhooks specification's examples.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    expect(signatureHeader(signingKey(secret), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body)).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });
});
