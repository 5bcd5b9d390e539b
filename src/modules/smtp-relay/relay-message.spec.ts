import { relayDraft, topHeaders } from './relay-message';
import { SmtpReply } from '@app/common';

const message = (...headers: string[]) => Buffer.from([...headers, '', 'body', ''].join('\r\n'));

async function draftOf(raw: Buffer, envelope: string[]) {
  return relayDraft(raw, await topHeaders(raw), envelope);
}

describe('relayDraft (SPEC §11)', () => {
  it('takes the envelope as recipients: normalized, deduplicated, to when in To or Cc, else bcc', async () => {
    const raw = message(
      'From: "Shop" <Sender@Example.test>',
      'To: Alice <alice@example.test>, bob@example.test',
      'Cc: =?UTF-8?Q?Car=C3=B6l?= <CAROL@example.test>',
      'Subject: hi',
    );
    const draft = await draftOf(raw, [
      'hidden@example.test',
      'Alice@Example.test',
      'carol@example.test',
      'alice@example.test',
    ]);
    expect(draft).toMatchObject({
      from: 'sender@example.test',
      recipients: [
        { email: 'alice@example.test', type: 'to' },
        { email: 'carol@example.test', type: 'to' },
        { email: 'hidden@example.test', type: 'bcc' },
      ],
      raw,
      html: null,
      text: null,
      headers: {},
      attachments: [],
    });
  });

  it('decodes the subject and takes X-Leadpush-Tag as the tag', async () => {
    const raw = message(
      'From: s@example.test',
      `Subject: =?UTF-8?B?${Buffer.from('Grüße').toString('base64')}?=`,
      'X-Leadpush-Tag: invoice',
    );
    expect(await draftOf(raw, ['a@example.test'])).toMatchObject({ subject: 'Grüße', tag: 'invoice' });
    expect(await draftOf(message('From: s@example.test'), ['a@example.test'])).toMatchObject({
      subject: '',
      tag: null,
    });
  });

  it('stores a subject that decodes to a NUL without it, and refuses such a tag', async () => {
    const raw = message('From: s@example.test', 'Subject: a=?UTF-8?Q?=00?=b');
    expect(await draftOf(raw, ['a@example.test'])).toMatchObject({ subject: 'ab' });
    const tagged = message('From: s@example.test', 'X-Leadpush-Tag: a\0b');
    expect(await draftOf(tagged, ['a@example.test'])).toMatchObject({ responseCode: 550 });
  });

  it('refuses any other X-Leadpush-* header with 550 5.7.1, naming it', async () => {
    const reply = await draftOf(message('From: s@example.test', 'X-LeadPush-Route: x'), ['a@example.test']);
    expect(reply).toBeInstanceOf(SmtpReply);
    expect(reply).toMatchObject({
      responseCode: 550,
      message: expect.stringMatching(/^5\.7\.1 .*X-LeadPush-Route/),
    });
  });

  it('refuses a message without a valid From address as sender_not_verified', async () => {
    for (const raw of [
      message('Subject: none'),
      message('From: not an address'),
      message('From: a@localhost'),
    ]) {
      expect(await draftOf(raw, ['a@example.test'])).toMatchObject({
        responseCode: 550,
        message: expect.stringMatching(/^5\.7\.1 .*sender_not_verified/),
      });
    }
  });

  it('refuses an X-Leadpush-Tag longer than the API allows', async () => {
    const raw = message('From: s@example.test', `X-Leadpush-Tag: ${'t'.repeat(201)}`);
    expect(await draftOf(raw, ['a@example.test'])).toMatchObject({ responseCode: 550 });
  });
});
