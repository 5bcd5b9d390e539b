import { senderNotVerified, sendersNotVerified, sendingRefusal } from './send-policy';

describe('sendingRefusal (SPEC §7 steps 2 and 3)', () => {
  it('refuses an owner without SMTP access first, naming the feature', () => {
    const refusal = sendingRefusal({ emailVerified: false, features: {} });
    expect(refusal).toMatchObject({
      status: 403,
      code: 'upgrade_needed',
      extra: { feature: 'smtp.enabled' },
    });
    expect(sendingRefusal({ emailVerified: true, features: { 'smtp.enabled': false } })?.code).toBe(
      'upgrade_needed',
    );
  });

  it('then an owner whose email is not verified', () => {
    expect(sendingRefusal({ emailVerified: false, features: { 'smtp.enabled': true } })).toMatchObject({
      status: 403,
      code: 'email_verification_required',
    });
  });

  it('lets an owner with both send', () => {
    expect(sendingRefusal({ emailVerified: true, features: { 'smtp.enabled': true } })).toBeNull();
  });
});

describe('step 5 refusals', () => {
  it('one send: sender_not_verified naming the address', () => {
    const refusal = senderNotVerified('x@dev.test');
    expect(refusal).toMatchObject({ status: 422, code: 'sender_not_verified', extra: {} });
    expect(refusal.message).toContain('x@dev.test');
  });

  it('a batch: one sender_not_verified listing each failing field', () => {
    expect(
      sendersNotVerified([
        { field: 'emails[0].from', from: 'a@dev.test' },
        { field: 'emails[2].from', from: 'b@dev.test' },
      ]),
    ).toMatchObject({
      status: 422,
      code: 'sender_not_verified',
      extra: {
        errors: [
          { field: 'emails[0].from', message: expect.stringContaining('a@dev.test') },
          { field: 'emails[2].from', message: expect.stringContaining('b@dev.test') },
        ],
      },
    });
  });
});
