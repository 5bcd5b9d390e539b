import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseReport, plainTextBlock, type Report } from './report-parser';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'reports');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
/** Each fixture as stored, with LF line ends, and with CRLF ones. */
const lineEnds = (raw: Buffer) => {
  const lf = raw.toString('latin1').replace(/\r\n/g, '\n');
  return [
    ['LF', Buffer.from(lf, 'latin1')],
    ['CRLF', Buffer.from(lf.replace(/\n/g, '\r\n'), 'latin1')],
  ] as const;
};

const blocksOf = (report: Report) => {
  if (report.kind !== 'dsn') throw new Error(`not a DSN: ${JSON.stringify(report)}`);
  return report.blocks.map(({ finalRecipient, originalRecipient, action, status }) => ({
    finalRecipient,
    originalRecipient,
    action,
    status,
  }));
};

describe('parseReport over real-world DSN shapes (RFC 3464)', () => {
  const cases: [string, Record<string, unknown>[], Record<string, unknown>][] = [
    [
      'postfix-user-unknown.eml',
      [
        {
          finalRecipient: 'nobody@example.org',
          originalRecipient: 'nobody@example.org',
          action: 'failed',
          status: '5.1.1',
        },
      ],
      {
        remoteMta: 'mail.example.org',
        diagnosticCode:
          'smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table',
      },
    ],
    [
      'exim-dsn.eml',
      [{ finalRecipient: 'gone@exim.example', originalRecipient: null, action: 'failed', status: '5.1.1' }],
      {
        remoteMta: 'mx.exim.example',
        diagnosticCode: 'smtp; 550 5.1.1 <gone@exim.example>: mailbox unavailable',
      },
    ],
    [
      'exchange-online.eml',
      [{ finalRecipient: 'jdoe@contoso.com', originalRecipient: null, action: 'failed', status: '5.1.10' }],
      {
        remoteMta: null,
        diagnosticCode:
          'smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
      },
    ],
    [
      'gmail.eml',
      [
        {
          finalRecipient: 'no.such.user.xyz@gmail.com',
          originalRecipient: null,
          action: 'failed',
          status: '5.1.1',
        },
      ],
      { remoteMta: 'gmail-smtp-in.l.google.com' },
    ],
    [
      'postfix-delayed.eml',
      [
        {
          finalRecipient: 'slow@busy.example',
          originalRecipient: 'slow@busy.example',
          action: 'delayed',
          status: '4.4.1',
        },
      ],
      { remoteMta: null },
    ],
    [
      'multi-recipient.eml',
      [
        {
          finalRecipient: 'second@multi.example',
          originalRecipient: null,
          action: 'delayed',
          status: '4.2.2',
        },
        { finalRecipient: 'first@multi.example', originalRecipient: null, action: 'failed', status: '5.1.1' },
        {
          finalRecipient: 'third+tag@multi.example',
          originalRecipient: 'third+tag@multi.example',
          action: 'failed',
          status: '5.2.2',
        },
      ],
      { remoteMta: 'mx.multi.example' },
    ],
  ];

  describe.each(cases)('%s', (name, expected, first) => {
    it.each(lineEnds(fixture(name)))('reads every recipient block (%s)', async (_, raw) => {
      const report = await parseReport(raw, '');
      expect(blocksOf(report)).toEqual(expected);
      if (report.kind === 'dsn') expect(report.blocks[report.blocks.length - 1]).toMatchObject(first);
    });
  });

  it('finds the original message of a DSN, attached whole or as headers', async () => {
    const withHeaders = await parseReport(fixture('postfix-user-unknown.eml'), '');
    expect(withHeaders.kind === 'dsn' && withHeaders.original).toEqual({
      returnPath: 'b-return-path@bounces.example.com',
      messageId: '<0b5f7a4e-3c1d-4e8f-9a2b-6c7d8e9f0a1b@acme.example>',
    });
    const whole = await parseReport(fixture('gmail.eml'), '');
    expect(whole.kind === 'dsn' && whole.original).toEqual({
      returnPath: 'b-return-path@bounces.example.com',
      messageId: '<4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b7c@acme.example>',
    });
  });

  it('reads a delivery-status part sent base64-encoded', async () => {
    const status = Buffer.from(
      'Reporting-MTA: dns; mx.b64.example\r\n\r\nFinal-Recipient: rfc822; x@b64.example\r\nAction: failed\r\nStatus: 5.2.1\r\n',
    ).toString('base64');
    const raw = Buffer.from(
      [
        'From: MAILER-DAEMON@b64.example',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'failed',
        '--b',
        'Content-Type: message/delivery-status',
        'Content-Transfer-Encoding: base64',
        '',
        status,
        '--b--',
        '',
      ].join('\r\n'),
    );
    expect(blocksOf(await parseReport(raw, ''))).toEqual([
      { finalRecipient: 'x@b64.example', originalRecipient: null, action: 'failed', status: '5.2.1' },
    ]);
  });
});

describe('parseReport over complaints (RFC 5965 ARF)', () => {
  it.each(lineEnds(fixture('arf-full.eml')))('reads one with the full original (%s)', async (_, raw) => {
    expect(await parseReport(raw, 'staff@hotmail.com')).toEqual({
      kind: 'complaint',
      feedbackType: 'abuse',
      userAgent: 'SomeGenerator/1.0',
      originalMailFrom: 'b-return-path@bounces.example.com',
      originalRcptTo: ['annoyed@example.com'],
      original: {
        returnPath: 'b-return-path@bounces.example.com',
        messageId: '<9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b@acme.example>',
      },
    });
  });

  it.each(lineEnds(fixture('arf-headers-only.eml')))(
    'reads one with the original headers only (%s)',
    async (_, raw) => {
      expect(await parseReport(raw, '')).toEqual({
        kind: 'complaint',
        feedbackType: 'abuse',
        userAgent: 'Yahoo!-Mail-Feedback/2.0',
        originalMailFrom: 'b-return-path@bounces.example.com',
        originalRcptTo: ['redacted@yahoo.com'],
        original: {
          returnPath: 'b-return-path@bounces.example.com',
          messageId: '<0f1a2b3c-4d5e-4f6a-9b7c-8d9e0f1a2b3c@acme.example>',
        },
      });
    },
  );
});

describe('non-standard bounces, best effort', () => {
  const cases: [string, string, { action: string; status: string }][] = [
    ['exim-plain.eml', 'old@legacy.example', { action: 'failed', status: '5.1.1' }],
    ['qmail.eml', 'nosuchuser@qmail.example', { action: 'failed', status: '5.1.1' }],
    ['yahoo.eml', 'closed.account@yahoo.com', { action: 'failed', status: '5.0.0' }],
  ];

  it.each(cases)('%s: a block for %s', async (name, recipient, expected) => {
    for (const [, raw] of lineEnds(fixture(name))) {
      const report = await parseReport(raw, '');
      expect(report.kind).toBe('plain-bounce');
      if (report.kind !== 'plain-bounce') return;
      expect(report.text).toContain('b-return-path@bounces.example.com');
      expect(plainTextBlock(report.text, recipient)).toMatchObject({
        finalRecipient: recipient,
        ...expected,
      });
      expect(plainTextBlock(report.text, 'someone.else@example.net')).toBeNull();
    }
  });

  it('reads a delay warning as delayed', () => {
    const text = 'This is a warning only.\n<late@x.example>: 451 4.4.1 host not reachable, will keep trying';
    expect(plainTextBlock(text, 'late@x.example')).toMatchObject({ action: 'delayed', status: '4.4.1' });
  });

  it.each([
    ['auto-reply.eml', 'an auto-reply'],
    ['human-reply.eml', 'not a report'],
  ])('%s is no report', async (name, why) => {
    expect(await parseReport(fixture(name), 'jane@example.org')).toEqual({ kind: 'other', why });
  });
});

describe('parseReport on hostile input', () => {
  it('answers for anything: empty, binary, unterminated MIME, lone surrogates, NUL', async () => {
    const inputs = [
      Buffer.alloc(0),
      Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]),
      Buffer.from(
        'Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a\0@b.c\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; \ud800 \0bad\n',
      ),
    ];
    for (const raw of inputs) {
      const report = await parseReport(raw, '');
      expect(['dsn', 'other']).toContain(report.kind);
      if (report.kind === 'dsn') {
        expect(report.blocks[0].diagnosticCode).toBe('smtp; \ufffd bad');
        expect(report.blocks[0].finalRecipient).toBeNull();
      }
    }
  });
});
