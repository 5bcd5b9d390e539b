import { classifySmtpError, enhancedStatus, NO_REPLY, retryDelayMs, sanitizeReply } from './smtp-reply';

/** A rejection as nodemailer reports it: its code, the command the reply answered, and the reply. */
const reply = (command: string, response: string, code = command === 'DATA' ? 'EMESSAGE' : 'EENVELOPE') => ({
  code,
  command,
  response,
  responseCode: Number(response.slice(0, 3)),
});

describe('classifySmtpError', () => {
  it.each([
    ['RCPT TO', '550 5.1.1 No such user'],
    ['RCPT TO', '550 5.1.10 Recipient address rejected'],
    ['RCPT TO', '552 5.2.1 Mailbox disabled'],
    ['RCPT TO', '550 No such user here'],
    ['DATA', '550 5.1.1 Unknown recipient'],
  ])('bounces and suppresses %s answered %j', (command, response) => {
    expect(classifySmtpError(reply(command, response))).toEqual({
      kind: 'bounce',
      suppress: true,
      code: Number(response.slice(0, 3)),
      response,
    });
  });

  it.each([
    ['RCPT TO', '552 5.2.2 Mailbox full'],
    ['RCPT TO', '550 5.4.1 Recipient address rejected: access denied'],
    ['DATA', '554 5.6.0 Message content rejected'],
    ['DATA', '554 Transaction failed'],
    ['DATA', '552 5.3.4 Message too big'],
  ])('bounces without suppressing %s answered %j', (command, response) => {
    expect(classifySmtpError(reply(command, response))).toMatchObject({ kind: 'bounce', suppress: false });
  });

  it.each([
    ['MAIL FROM', '530 5.7.0 Authentication required'],
    ['MAIL FROM', '550 sender not allowed'],
    ['MAIL FROM', '553 5.1.8 Sender address rejected'],
    ['AUTH PLAIN', '535 5.7.8 Authentication credentials invalid'],
    ['AUTH LOGIN', '554 authentication failed'],
    ['RCPT TO', '550 5.7.1 Relaying denied'],
    ['RCPT TO', '530 Authentication required'],
    ['DATA', '554 5.7.1 Message rejected by policy'],
    ['DATA', '535 Authentication required'],
    ['RCPT TO', '450 4.2.0 Mailbox busy'],
    ['RCPT TO', '451 4.7.1 Greylisted'],
    ['DATA', '421 4.3.2 Service shutting down'],
  ])('retries %s answered %j: not the recipient’s fault, or not final', (command, response) => {
    expect(classifySmtpError(reply(command, response))).toEqual({
      kind: 'retry',
      code: Number(response.slice(0, 3)),
      response,
    });
  });

  it('retries a 5xx to the DATA command itself, which is not the end of DATA', () => {
    expect(classifySmtpError(reply('DATA', '554 5.5.1 No valid recipients', 'EENVELOPE')).kind).toBe('retry');
  });

  it('retries a 5xx to a command that is not about the recipient (a server closing the connection)', () => {
    expect(classifySmtpError(reply('CONN', '554 5.3.2 Go away', 'ECONNECTION')).kind).toBe('retry');
  });

  it('retries connection failures and timeouts with a generic text, never the error message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:25'), {
      code: 'ESOCKET',
      command: 'CONN',
    });
    expect(classifySmtpError(refused)).toEqual({ kind: 'retry', code: null, response: NO_REPLY.connection });
    expect(classifySmtpError({ code: 'ETIMEDOUT', message: 'Greeting never received' })).toEqual({
      kind: 'retry',
      code: null,
      response: NO_REPLY.timeout,
    });
    expect(classifySmtpError(new Error('bad decrypt'))).toEqual({
      kind: 'retry',
      code: null,
      response: NO_REPLY.connection,
    });
  });

  it('survives values that are not errors', () => {
    expect(classifySmtpError(undefined)).toEqual({
      kind: 'retry',
      code: null,
      response: NO_REPLY.connection,
    });
  });

  it('stores the reply without NUL or lone surrogates', () => {
    expect(classifySmtpError(reply('RCPT TO', '550 5.1.1 no\0 such \ud800user\udfff'))).toMatchObject({
      response: '550 5.1.1 no such \ufffduser\ufffd',
    });
  });
});

describe('enhancedStatus', () => {
  it('reads the status right after the reply code, on one line or the first of several', () => {
    expect(enhancedStatus('550 5.1.1 No such user')).toBe('5.1.1');
    expect(enhancedStatus('550-5.7.1 Policy\n550 5.7.1 more')).toBe('5.7.1');
    expect(enhancedStatus('550 5.1.1')).toBe('5.1.1');
  });

  it('finds none in a bare reply or in numbers elsewhere in the text', () => {
    expect(enhancedStatus('550 No such user')).toBeNull();
    expect(enhancedStatus('550 user 5.1.1 unknown')).toBeNull();
    expect(enhancedStatus('550 5.1.1x')).toBeNull();
  });
});

describe('sanitizeReply', () => {
  it('keeps well-formed text, including pairs of surrogates', () => {
    expect(sanitizeReply('250 2.0.0 Ok: queued 😀')).toBe('250 2.0.0 Ok: queued 😀');
  });

  it('bounds the length without leaving half a pair', () => {
    const text = sanitizeReply(`${'a'.repeat(999)}😀`);
    expect(text).toHaveLength(1000);
    expect(text.endsWith('\ufffd')).toBe(true);
  });
});

describe('retryDelayMs', () => {
  it('starts at the backoff and doubles each attempt', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(30000, attempt))).toEqual([
      30000, 60000, 120000, 240000,
    ]);
  });
});
