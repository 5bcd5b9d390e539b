import { basicPassword } from './basic-auth';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('basicPassword', () => {
  it('reads the password after the first colon, whatever the user name', () => {
    expect(basicPassword(basic('admin:s3cret'))).toBe('s3cret');
    expect(basicPassword(basic(':s3cret'))).toBe('s3cret');
    expect(basicPassword(basic('ops:pa:ss'))).toBe('pa:ss');
    expect(basicPassword(`basic  ${Buffer.from('x:é').toString('base64')} `)).toBe('é');
  });

  it('has none without the Basic scheme, a colon or valid base64', () => {
    expect(basicPassword(undefined)).toBeNull();
    expect(basicPassword(`Bearer ${Buffer.from('a:b').toString('base64')}`)).toBeNull();
    expect(basicPassword(basic('no-colon'))).toBeNull();
    expect(basicPassword('Basic !!!')).toBeNull();
    expect(basicPassword('Basic')).toBeNull();
  });
});
