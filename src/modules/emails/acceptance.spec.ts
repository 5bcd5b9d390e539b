import { Acceptance, contentSize, toAcceptedRequest } from './acceptance';
import type { SendEmailDto } from './dto/send-email.dto';

const sender = { id: 's', email: 'sender@dev.test', name: null, domainId: 'd', domainName: 'dev.test' };
const route = { ...sender, id: 'r', email: 'route@dev.test' };

function acceptance(dto: Partial<SendEmailDto>, key: string | null = null): Acceptance {
  return {
    id: 'req-1',
    workspaceId: 'ws-1',
    dto: { from: sender.email, subject: 'Hi', text: 'Hello', ...dto } as SendEmailDto,
    recipients: [
      { id: 'm-1', email: 'a@x.test', type: 'to' },
      { id: 'm-2', email: 'b@x.test', type: 'bcc' },
    ],
    sender,
    idempotencyKey: key,
  };
}

describe('toAcceptedRequest', () => {
  it('keeps the planned ids, sends a contact with a sendable route from it, and answers what it stores', () => {
    const { request, result } = toAcceptedRequest(
      acceptance({ headers: { 'X-Leadpush-Tag': 'welcome', 'X-A': '1' } }, 'key-1'),
      [{ contactId: 'c-1', route }, null],
    );
    expect(request).toMatchObject({
      id: 'req-1',
      workspaceId: 'ws-1',
      fromEmail: sender.email,
      toRecipients: ['a@x.test'],
      headers: { 'X-A': '1' },
      tag: 'welcome',
      messages: [
        { id: 'm-1', recipient: 'a@x.test', type: 'to', fromEmail: 'route@dev.test', contactId: 'c-1' },
        { id: 'm-2', recipient: 'b@x.test', type: 'bcc', fromEmail: sender.email, contactId: null },
      ],
    });
    expect(result.messages.map((m) => [m.uuid, m.from])).toEqual([
      ['m-1', 'route@dev.test'],
      ['m-2', sender.email],
    ]);
    expect(request.idempotency).toEqual({ key: 'key-1', response: result });
  });

  it('answers the same rows each time for the same acceptance, so a repeat stores nothing new', () => {
    const once = toAcceptedRequest(acceptance({}), [null, null]);
    const twice = toAcceptedRequest(acceptance({}), [null, null]);
    expect(twice).toEqual(once);
    expect(once.request.idempotency).toBeNull();
  });
});

describe('contentSize', () => {
  it('counts the characters of the content, headers and recipients', () => {
    const size = contentSize(
      acceptance({ subject: 'S', text: 'x'.repeat(10), html: 'h'.repeat(5), headers: { Ab: 'cd' } }),
    );
    expect(size).toBe(1 + 10 + 5 + 4 + 'a@x.test'.length + 'b@x.test'.length);
  });
});
