import { randomBytes } from 'node:crypto';
import { eventually, type TestApp, type Workspace } from './app';

export interface Sender {
  domainId: string;
  domain: string;
  email: string;
  addressId: string;
}

/** A domain verified by the operator override and a sender address on it. */
export async function createSender(
  t: TestApp,
  ws: Workspace,
  {
    domain = `${randomBytes(4).toString('hex')}.developer.test`,
    local = 'sender',
    name = 'Developer Team',
  } = {},
): Promise<Sender> {
  const created = await ws.api('post', '/v1/domains').send({ name: domain }).expect(201);
  await t.admin('post', `/admin/v1/domains/${created.body.data.id}/verify`).expect(200);
  const address = await ws
    .api('post', '/v1/addresses')
    .send({ email: `${local}@${domain}`, name })
    .expect(201);
  return {
    domainId: created.body.data.id,
    domain,
    email: address.body.data.email,
    addressId: address.body.data.id,
  };
}

/** Sends one email to `count` recipients (`<subject, lowercased><i>@example.test`) and answers its messages' uuids, in order. */
export async function sendToMany(
  ws: Workspace,
  sender: Sender,
  count: number,
  subject: string,
): Promise<string[]> {
  const to = Array.from({ length: count }, (_, i) => `${subject.toLowerCase()}${i}@example.test`);
  const res = await ws
    .api('post', '/v1/emails')
    .send({ from: sender.email, to, subject, text: 'x' })
    .expect(202);
  return (res.body.data.messages as { uuid: string }[]).map((m) => m.uuid);
}

/** The example request the README shows: three `to`, a bcc, duplicates, custom headers and a tag. */
export function exampleEmail(from: string) {
  return {
    from,
    to: ['known@example.test', ' Other@Example.TEST ', 'third@example.test', 'KNOWN@example.test'],
    bcc: ['audit@example.test', 'other@example.test'],
    reply_to: 'support@example.test',
    subject: 'Your receipt #1042',
    html: '<p>Thanks for your order.</p>',
    text: 'Thanks for your order.',
    headers: {
      'X-Correlation-ID': 'order-1042',
      'Auto-Submitted': 'auto-generated',
      'X-Leadpush-Tag': 'receipt',
    },
  };
}

export interface MessageEvent {
  type: string;
  at: string;
  detail: Record<string, unknown>;
}

/** Statuses a delivery ends in. */
const FINAL_STATUSES = ['sent', 'bounced', 'failed', 'suppressed'];

/** Polls GET /v1/messages/:uuid until the message is in `status`, or in a final status when none is given. */
export function settledMessage(ws: Workspace, uuid: string, status?: string) {
  return eventually(
    async () => {
      const { body } = await ws.api('get', `/v1/messages/${uuid}`).expect(200);
      const reached = status ? body.data.status === status : FINAL_STATUSES.includes(body.data.status);
      return reached ? body.data : null;
    },
    { what: `message ${uuid} to end ${status ?? 'its delivery'}` },
  );
}

export const eventTypes = (events: MessageEvent[]) => events.map((e) => e.type);
