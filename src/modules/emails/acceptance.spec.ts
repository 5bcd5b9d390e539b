import { Call, contentSize, PlannedSend, toAcceptedRequest } from './acceptance';
import type { SendCommand } from './send-command';

const sender = { id: 's', email: 'sender@dev.test', name: null, domainId: 'd', domainName: 'dev.test' };
const route = { ...sender, id: 'r', email: 'route@dev.test' };
const now = new Date('2026-12-01T10:00:00Z');

function planned(command: Partial<SendCommand> = {}): PlannedSend {
  return {
    id: 'req-1',
    command: {
      workspaceId: 'ws-1',
      source: 'api',
      test: false,
      from: sender.email,
      recipients: [
        { email: 'a@x.test', type: 'to' },
        { email: 'b@x.test', type: 'bcc' },
      ],
      replyTo: null,
      subject: 'Hi',
      html: null,
      text: 'Hello',
      headers: {},
      tag: null,
      attachments: [],
      scheduledAt: null,
      ...command,
    },
    recipients: [
      { id: 'm-1', email: 'a@x.test', type: 'to' },
      { id: 'm-2', email: 'b@x.test', type: 'bcc' },
    ],
    sender,
  };
}

describe('toAcceptedRequest', () => {
  it('keeps the planned ids, sends a contact with a sendable route from it, and answers what it stores', () => {
    const { request, result } = toAcceptedRequest(
      planned({ headers: { 'X-A': '1' }, tag: 'welcome' }),
      [{ contactId: 'c-1', route }, null],
      now,
    );
    expect(request).toMatchObject({
      id: 'req-1',
      workspaceId: 'ws-1',
      source: 'api',
      test: false,
      fromEmail: sender.email,
      toRecipients: ['a@x.test'],
      headers: { 'X-A': '1' },
      tag: 'welcome',
      status: 'pending',
      messages: [
        { id: 'm-1', recipient: 'a@x.test', type: 'to', fromEmail: 'route@dev.test', contactId: 'c-1' },
        { id: 'm-2', recipient: 'b@x.test', type: 'bcc', fromEmail: sender.email, contactId: null },
      ],
    });
    expect(result.messages.map((m) => [m.uuid, m.from, m.status])).toEqual([
      ['m-1', 'route@dev.test', 'pending'],
      ['m-2', sender.email, 'pending'],
    ]);
  });

  it('answers the same rows each time for the same send, so a repeat stores nothing new', () => {
    expect(toAcceptedRequest(planned(), [null, null], now)).toEqual(
      toAcceptedRequest(planned(), [null, null], now),
    );
  });

  it('is scheduled only when scheduled after now; a time now or past sends at once', () => {
    const statusAt = (at: string) =>
      toAcceptedRequest(planned({ scheduledAt: new Date(at) }), [null, null], now).request.status;
    expect(statusAt('2026-12-01T10:00:01Z')).toBe('scheduled');
    expect(statusAt('2026-12-01T10:00:00Z')).toBe('pending');
    expect(statusAt('2026-11-30T10:00:00Z')).toBe('pending');
    const scheduled = toAcceptedRequest(
      planned({ scheduledAt: new Date('2026-12-02T00:00:00Z') }),
      [null, null],
      now,
    );
    expect(scheduled.result.messages.map((m) => m.status)).toEqual(['scheduled', 'scheduled']);
    expect(scheduled.request.scheduledAt).toEqual(new Date('2026-12-02T00:00:00Z'));
  });
});

describe('contentSize', () => {
  it('counts the characters of every send of a call: content, headers, recipients, attachment bytes twice', () => {
    const send = planned({
      subject: 'S',
      text: 'x'.repeat(10),
      html: 'h'.repeat(5),
      headers: { Ab: 'cd' },
      attachments: [
        { filename: 'a.txt', contentType: 'text/plain', contentId: null, content: Buffer.alloc(7) },
      ],
    });
    const call: Call = {
      id: 'c',
      workspaceId: 'ws-1',
      sends: [send, send],
      idempotencyKey: null,
      batch: true,
    };
    expect(contentSize(call)).toBe(2 * (1 + 10 + 5 + 4 + 'a@x.test'.length + 'b@x.test'.length + 14));
  });
});
