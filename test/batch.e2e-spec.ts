import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DELIVERY_QUEUE, DeliveryJobId, messagesOf } from '../src/modules/delivery/delivery.jobs';
import { MESSAGE_STATUSES } from '../src/modules/messages/message-status';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';

/** POST /v1/emails/batch (SPEC §10), and what a send stores beyond its content: attachments and a schedule. */
describe('POST /v1/emails/batch', () => {
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let queue: Queue;

  beforeAll(async () => {
    t = await createTestApp({ APP_ROLE: 'api' });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    queue = t.app.get(getQueueToken(DELIVERY_QUEUE));
  });
  afterAll(() => t.close());

  const batch = (emails: unknown[], key?: string) => {
    const req = ws.api('post', '/v1/emails/batch');
    if (key) req.set('Idempotency-Key', key);
    return req.send({ emails });
  };
  const email = (extra: Record<string, unknown> = {}) => ({
    from: sender.email,
    to: ['someone@example.test'],
    subject: 'Hello',
    text: 'Hi',
    ...extra,
  });
  const fieldsOf = (body: { errors: { field: string }[] }) => body.errors.map((e) => e.field);
  /** Everything a send stores, counted for this workspace. */
  const stored = async () => {
    const { rows } = await t.db.query(
      `SELECT (SELECT count(*)::int FROM email_requests WHERE workspace_id = $1) AS requests,
              (SELECT count(*)::int FROM messages WHERE workspace_id = $1) AS messages,
              (SELECT count(*)::int FROM email_attachments a JOIN email_requests r ON r.id = a.request_id
                WHERE r.workspace_id = $1) AS attachments`,
      [ws.workspaceId],
    );
    return rows[0] as { requests: number; messages: number; attachments: number };
  };
  /** The first job of `uuid`'s request, or null while it has none. */
  const requestJob = async (uuid: string) => {
    const { rows } = await t.db.query(`SELECT request_id FROM messages WHERE id = $1`, [uuid]);
    return queue.getJob(DeliveryJobId.request(rows[0].request_id));
  };
  /** The messages that job delivers, once queued: a send answers before its job is. */
  const queuedWith = async (uuid: string) =>
    messagesOf((await eventually(() => requestJob(uuid), { what: `the job of ${uuid}` })).data);
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from([0, 255, 128, 7])]);
  const logo = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const inAnHour = () => new Date(Date.now() + 60 * 60 * 1000).toISOString();

  it('answers each item in order, stores every message of every item, attachments once per item', async () => {
    const before = await stored();
    const at = inAnHour();
    const res = await batch([
      email({
        to: ['a@example.test', 'b@example.test'],
        bcc: ['A@example.test', 'c@example.test'],
        html: '<img src="cid:logo">',
        attachments: [
          { filename: 'invoice.pdf', content: pdf.toString('base64') },
          { filename: 'logo.png', content: logo.toString('base64'), content_id: 'logo' },
        ],
      }),
      email({ to: ['later@example.test'], scheduled_at: at }),
      email({ to: ['a@example.test'], subject: 'Again' }),
    ]).expect(202);

    const message = (recipient: string, type: string, status = 'pending') => ({
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      recipient,
      type,
      from: sender.email,
      status,
    });
    expect(res.body).toEqual({
      data: [
        {
          accepted: true,
          message_count: 3,
          messages: [
            message('a@example.test', 'to'),
            message('b@example.test', 'to'),
            message('c@example.test', 'bcc'),
          ],
        },
        { accepted: true, message_count: 1, messages: [message('later@example.test', 'to', 'scheduled')] },
        { accepted: true, message_count: 1, messages: [message('a@example.test', 'to')] },
      ],
    });
    expect(await stored()).toEqual({
      requests: before.requests + 3,
      messages: before.messages + 5,
      attachments: before.attachments + 2,
    });

    const [withFiles, later, again] = res.body.data.map(
      (item: { messages: { uuid: string }[] }) => item.messages[0].uuid,
    );
    const read = await ws.api('get', `/v1/messages/${withFiles}`).expect(200);
    expect(read.body.data).toMatchObject({
      status: 'pending',
      scheduled_at: null,
      source: 'api',
      test: false,
      attachments: [
        { filename: 'invoice.pdf', content_type: 'application/pdf', size: pdf.length },
        { filename: 'logo.png', content_type: 'image/png', size: logo.length },
      ],
      events: [{ type: 'pending' }],
    });
    const bytes = await t.db.query(
      `SELECT a.content, a.content_id FROM email_attachments a JOIN messages m ON m.request_id = a.request_id
        WHERE m.id = $1 ORDER BY a.position`,
      [withFiles],
    );
    expect(bytes.rows).toEqual([
      { content: pdf, content_id: null },
      { content: logo, content_id: 'logo' },
    ]);

    const scheduled = await ws.api('get', `/v1/messages/${later}`).expect(200);
    expect(scheduled.body.data).toMatchObject({
      status: 'scheduled',
      scheduled_at: at,
      attachments: [],
      events: [{ type: 'scheduled' }],
    });
    // Handed to delivery: the messages due now, each item's in its own job; the scheduled one is not.
    const firstItem = res.body.data[0].messages.map((m: { uuid: string }) => m.uuid);
    expect((await queuedWith(withFiles)).sort()).toEqual(firstItem.sort());
    expect(await queuedWith(again)).toEqual([again]);
    // One call's jobs are queued together, so none for `later` now means none at all.
    expect(await requestJob(later)).toBeNull();

    const list = await ws.api('get', '/v1/messages?limit=5').expect(200);
    for (const item of list.body.data) expect(item).not.toHaveProperty('attachments');
  });

  it('a time in the past or now sends at once', async () => {
    const res = await batch([email({ scheduled_at: '2020-01-01T00:00:00+02:00' })]).expect(202);
    const [{ uuid, status }] = res.body.data[0].messages;
    expect(status).toBe('pending');
    const read = await ws.api('get', `/v1/messages/${uuid}`).expect(200);
    expect(read.body.data).toMatchObject({ status: 'pending', scheduled_at: '2019-12-31T22:00:00.000Z' });
    expect(await queuedWith(uuid)).toEqual([uuid]);
  });

  it('one bad item creates nothing, and every failing field is named emails[i].…', async () => {
    const before = await stored();
    const res = await batch([
      email(),
      email(),
      email({ from: 'not-an-address' }),
      email({ to: ['ok@example.test', 'bad'] }),
      email({
        attachments: [
          { filename: 'a.txt', content: 'YQ==' },
          { filename: 'run.EXE', content: 'YQ==' },
        ],
      }),
      email({ attachments: [{ filename: 'a.txt', content: 'not base64!' }] }),
    ]).expect(422);
    expect(res.body).toEqual({
      error: 'validation_failed',
      message: expect.any(String),
      errors: expect.any(Array),
    });
    expect(fieldsOf(res.body)).toEqual([
      'emails[2].from',
      'emails[3].to[1]',
      'emails[4].attachments[1].filename',
      'emails[5].attachments[0].content',
    ]);
    expect(await stored()).toEqual(before);
  });

  it("senders are checked after every item's body; several bad senders are one 422 naming each", async () => {
    const before = await stored();
    const res = await batch([
      email(),
      email({ from: `nobody@${sender.domain}` }),
      email(),
      email({ from: 'someone@unknown.test' }),
    ]).expect(422);
    expect(res.body).toEqual({
      error: 'sender_not_verified',
      message: expect.any(String),
      errors: [
        { field: 'emails[1].from', message: expect.any(String) },
        { field: 'emails[3].from', message: expect.any(String) },
      ],
    });
    expect(await stored()).toEqual(before);

    const bodyFirst = await batch([email({ from: 'someone@unknown.test' }), email({ subject: '' })]).expect(
      422,
    );
    expect(bodyFirst.body.error).toBe('validation_failed');
    expect(fieldsOf(bodyFirst.body)).toEqual(['emails[1].subject']);
  });

  it.each([
    ['101 items', { emails: Array.from({ length: 101 }, () => ({})) }, ['emails']],
    ['no items', { emails: [] }, ['emails']],
    ['no emails field', {}, ['emails']],
    ['an unknown field inside an item', { emails: [{ cc: ['x@example.test'] }] }, ['emails[0].cc']],
    ['an unknown field beside emails', { emails: [], extra: 1 }, ['extra', 'emails']],
    ['an item that is not an object', { emails: ['x'] }, ['emails[0]']],
  ])('refuses %s with a 422 naming the field', async (_, body, fields) => {
    const withValid = JSON.parse(
      JSON.stringify(body).replace(
        /\{"cc"/,
        `{"from":"${sender.email}","to":["a@example.test"],"subject":"s","text":"t","cc"`,
      ),
    );
    const before = await stored();
    const res = await ws.api('post', '/v1/emails/batch').send(withValid).expect(422);
    expect(res.body.error).toBe('validation_failed');
    expect(fieldsOf(res.body)).toEqual(fields);
    expect(await stored()).toEqual(before);
  });

  it('takes 100 items, and the 50-recipient limit holds per item', async () => {
    const fifty = Array.from({ length: 50 }, (_, i) => `r${i}@example.test`);
    const before = await stored();
    const res = await batch(
      Array.from({ length: 100 }, (_, i) => email({ to: i < 2 ? fifty : [`x${i}@example.test`] })),
    );
    expect(res.status).toBe(202);
    expect(res.body.data).toHaveLength(100);
    expect(res.body.data[1].message_count).toBe(50);
    expect((await stored()).messages).toBe(before.messages + 2 * 50 + 98);

    const tooMany = await batch([email(), email({ to: [...fifty, 'one-more@example.test'] })]).expect(422);
    expect(fieldsOf(tooMany.body)).toEqual(['emails[1].to']);
  });

  it('a repeat with the same Idempotency-Key answers the first batch again and creates nothing', async () => {
    const items = [
      email({ to: ['idem1@example.test'] }),
      email({ to: ['idem2@example.test'], subject: 'Two' }),
    ];
    const first = await batch(items, 'batch-key-1').expect(202);
    const after = await stored();
    const replay = await batch(items, 'batch-key-1').expect(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(await stored()).toEqual(after);

    // The key remembers the normalized commands: the same batch spelled differently is the same batch.
    const respelled = items.map((item) => ({ ...item, to: item.to.map((a) => ` ${a.toUpperCase()}`) }));
    expect((await batch(respelled, 'batch-key-1').expect(202)).body).toEqual(first.body);

    const different = await batch([items[0]], 'batch-key-1').expect(409);
    expect(different.body.error).toBe('idempotency_key_reused');
    // A single send is not the batch of its one email.
    await batch([items[0]], 'batch-key-2').expect(202);
    const single = await ws.api('post', '/v1/emails').set('Idempotency-Key', 'batch-key-2').send(items[0]);
    expect(single.status).toBe(409);
    expect(single.body.error).toBe('idempotency_key_reused');
  });

  it('Swagger documents the batch route, its body and its answer', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    const post = doc.body.paths['/v1/emails/batch'].post;
    expect(post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/SendBatchDto',
    });
    expect(post.responses['202'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AcceptedBatchResponse',
    });
    expect(post.parameters.map((p: { name: string }) => p.name)).toContain('Idempotency-Key');
    const { schemas } = doc.body.components;
    expect(schemas.SendBatchDto.properties.emails).toMatchObject({ type: 'array' });
    expect(Object.keys(schemas.SendEmailDto.properties)).toEqual(
      expect.arrayContaining(['attachments', 'scheduled_at']),
    );
    expect(Object.keys(schemas.AttachmentDto.properties)).toEqual(
      expect.arrayContaining(['filename', 'content', 'content_type', 'content_id']),
    );
    expect(Object.keys(schemas.MessageDto.properties)).toEqual(
      expect.arrayContaining(['scheduled_at', 'source', 'test', 'attachments']),
    );
  });
});

describe('POST /v1/emails: attachments and scheduled_at', () => {
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    t = await createTestApp({ APP_ROLE: 'api' });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(() => t.close());

  const send = (extra: Record<string, unknown>) =>
    ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: ['a@example.test'], subject: 's', text: 't', ...extra });

  it.each([
    [
      'a blocked extension',
      {
        attachments: [
          { filename: 'ok.txt', content: 'YQ==' },
          { filename: 'x.Js', content: 'YQ==' },
        ],
      },
      'attachments[1].filename',
    ],
    ['URL-safe base64', { attachments: [{ filename: 'a.bin', content: '-_-_' }] }, 'attachments[0].content'],
    [
      'base64 with a line break',
      { attachments: [{ filename: 'a.bin', content: 'YWJj\r\nZGVm' }] },
      'attachments[0].content',
    ],
    ['empty content', { attachments: [{ filename: 'a.bin', content: '' }] }, 'attachments[0].content'],
    [
      'a filename with a slash',
      { attachments: [{ filename: '../a.txt', content: 'YQ==' }] },
      'attachments[0].filename',
    ],
    [
      '21 attachments',
      { attachments: Array.from({ length: 21 }, () => ({ filename: 'a.txt', content: 'YQ==' })) },
      'attachments',
    ],
    ['a scheduled_at without a zone', { scheduled_at: '2026-12-24T08:00:00' }, 'scheduled_at'],
    [
      'a scheduled_at 31 days ahead',
      { scheduled_at: new Date(Date.now() + 31 * 86_400_000).toISOString() },
      'scheduled_at',
    ],
  ])('%s is a 422 naming the field, and stores nothing', async (_, extra, field) => {
    const count = async () =>
      (
        await t.db.query('SELECT count(*)::int AS n FROM email_requests WHERE workspace_id = $1', [
          ws.workspaceId,
        ])
      ).rows[0].n as number;
    const before = await count();
    const res = await send(extra).expect(422);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(await count()).toBe(before);
  });

  it('stores the attachment once for all recipients, and lists it on each message with its decoded size', async () => {
    const content = Buffer.alloc(3000, 7);
    const res = await send({
      to: ['one@example.test', 'two@example.test'],
      bcc: ['three@example.test'],
      attachments: [
        { filename: 'report.csv', content: content.toString('base64'), content_type: 'text/csv' },
      ],
    }).expect(202);
    const uuids: string[] = res.body.data.messages.map((m: { uuid: string }) => m.uuid);
    const rows = await t.db.query(
      `SELECT count(*)::int AS n FROM email_attachments WHERE request_id IN (SELECT request_id FROM messages WHERE id = ANY($1))`,
      [uuids],
    );
    expect(rows.rows[0].n).toBe(1);
    for (const uuid of uuids) {
      const read = await ws.api('get', `/v1/messages/${uuid}`).expect(200);
      expect(read.body.data.attachments).toEqual([
        { filename: 'report.csv', content_type: 'text/csv', size: 3000 },
      ]);
    }
  });

  it('a scheduled send answers and stores status scheduled with its time', async () => {
    const at = new Date(Date.now() + 29 * 86_400_000);
    const res = await send({ scheduled_at: at.toISOString() }).expect(202);
    expect(res.body.data.messages[0].status).toBe('scheduled');
    const read = await ws.api('get', `/v1/messages/${res.body.data.messages[0].uuid}`).expect(200);
    expect(read.body.data).toMatchObject({ status: 'scheduled', scheduled_at: at.toISOString() });
  });

  it('messages.status takes exactly the statuses of MESSAGE_STATUSES', async () => {
    const { rows } = await t.db.query(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'messages_status_check'`,
    );
    const listed = [...(rows[0].def as string).matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...MESSAGE_STATUSES].sort());
  });
});
