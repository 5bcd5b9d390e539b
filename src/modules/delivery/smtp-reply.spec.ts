import { classifySmtpError, retryDelayMs } from './smtp-reply';

describe('classifySmtpError', () => {
  it('treats a 5xx for the recipient or message as a bounce', () => {
    expect(
      classifySmtpError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user' }),
    ).toEqual({ kind: 'bounce', code: 550, response: '550 5.1.1 No such user' });
    expect(classifySmtpError({ code: 'EMESSAGE', responseCode: 554, response: '554 rejected' }).kind).toBe(
      'bounce',
    );
  });

  it('retries 4xx replies', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 451, response: '451 try later' })).toEqual({
      kind: 'retry',
      code: 451,
      response: '451 try later',
    });
  });

  it('retries connection failures and timeouts, which carry no reply code', () => {
    expect(classifySmtpError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toEqual({
      kind: 'retry',
      code: null,
      response: 'connect ECONNREFUSED',
    });
    expect(classifySmtpError({ code: 'ETIMEDOUT', message: 'Greeting never received' }).kind).toBe('retry');
  });

  it('does not bounce the recipient for a 5xx about the connection (authentication)', () => {
    expect(
      classifySmtpError({ code: 'EAUTH', responseCode: 535, response: '535 bad credentials' }).kind,
    ).toBe('retry');
  });

  it('survives values that are not errors', () => {
    expect(classifySmtpError(undefined)).toEqual({ kind: 'retry', code: null, response: 'unknown error' });
  });
});

describe('retryDelayMs', () => {
  it('starts at the backoff and doubles each attempt', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(30000, attempt))).toEqual([
      30000, 60000, 120000, 240000,
    ]);
  });
});
