import { eventually } from './support/app';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';
import { OutboundMail } from '../src/modules/delivery/transports/mail-transport';
import { SmtpTransport } from '../src/modules/delivery/transports/smtp.transport';

const mail = (to: string): OutboundMail => ({
  envelope: { from: 'sender@example.test', to },
  raw: Buffer.from(`From: sender@example.test\r\nTo: ${to}\r\nSubject: abort\r\n\r\nx\r\n`),
  messageId: `<${to}>`,
});

describe('the SMTP transport', () => {
  let smtp: SmtpSink;
  let transport: SmtpTransport;

  beforeEach(async () => {
    smtp = await startSmtpSink();
    transport = new SmtpTransport({ url: smtp.url, maxConnections: 1 });
  });
  afterEach(async () => {
    transport.close();
    await smtp.close();
  });

  it('hands over the bytes exactly as composed, to the envelope, and answers the reply', async () => {
    const raw = Buffer.from(
      'From: sender@example.test\r\nTo: exact@example.test\r\nSubject: =?UTF-8?B?w6k=?=\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
        '.a line that starts with a dot\r\n..two dots\r\n.\r\nplain ü 😀\r\n',
    );
    const reply = await transport.send(
      {
        envelope: { from: 'bounce@example.test', to: 'exact@example.test' },
        raw,
        messageId: '<m@example.test>',
      },
      new AbortController().signal,
    );
    expect(reply.code).toBe(250);
    expect(reply.response).toMatch(/^250 /);
    const [received] = smtp.messages;
    expect(received.envelopeFrom).toBe('bounce@example.test');
    expect(received.envelopeTo).toEqual(['exact@example.test']);
    expect(received.raw.equals(raw)).toBe(true);
  });

  it('fails at once while the relay is still answering, and goes on with the next message', async () => {
    smtp.setDelay(5000);
    const abort = new AbortController();
    const sending = transport.send(mail('slow@example.test'), abort.signal);
    await eventually(async () => smtp.dataAttempts() === 1, { what: 'the message at the relay' });
    abort.abort('lost');
    await expect(sending).rejects.toMatchObject({ code: 'EABORT' });

    smtp.setDelay(0);
    const reply = await transport.send(mail('next@example.test'), new AbortController().signal);
    expect(reply.code).toBe(250);
    expect(smtp.messages.map((m) => m.envelopeTo[0])).toEqual(['next@example.test']);
  });

  it('never hands over a message aborted while it waits for a connection', async () => {
    smtp.setDelay(1000);
    const first = transport.send(mail('first@example.test'), new AbortController().signal);
    const abort = new AbortController();
    const queued = transport.send(mail('queued@example.test'), abort.signal);
    abort.abort('lost');
    await expect(queued).rejects.toMatchObject({ code: 'EABORT' });
    expect((await first).code).toBe(250);
    smtp.setDelay(0);
    await transport.send(mail('after@example.test'), new AbortController().signal);
    expect(smtp.rcptAttempts('queued@example.test')).toBe(0);
    expect(smtp.messages.map((m) => m.envelopeTo[0])).toEqual(['first@example.test', 'after@example.test']);
  });
});
