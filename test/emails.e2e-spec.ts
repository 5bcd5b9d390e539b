import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, exampleEmail, Sender } from './support/sending';

describe('POST /v1/emails', () => {
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    t = await createTestApp({ APP_ROLE: 'api' });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(() => t.close());

  const send = (body: unknown, as: Workspace = ws) => as.api('post', '/v1/emails').send(body as object);
  const minimal = (extra: Record<string, unknown> = {}) => ({
    from: sender.email,
    to: ['someone@example.test'],
    subject: 'Hello',
    text: 'Hi',
    ...extra,
  });
  const fieldsOf = (body: { errors: { field: string }[] }) => body.errors.map((e) => e.field);

  it('accepts the example request: one message per unique recipient, to in order then bcc', async () => {
    const res = await send(exampleEmail(sender.email.toUpperCase())).expect(202);
    expect(res.body).toEqual({
      data: {
        accepted: true,
        message_count: 4,
        messages: [
          ['known@example.test', 'to'],
          ['other@example.test', 'to'],
          ['third@example.test', 'to'],
          ['audit@example.test', 'bcc'],
        ].map(([recipient, type]) => ({
          uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
          recipient,
          type,
          from: sender.email,
          status: 'pending',
        })),
      },
    });
    const uuids = res.body.data.messages.map((m: { uuid: string }) => m.uuid);
    expect(new Set(uuids).size).toBe(4);

    const stored = await t.db.query(
      `SELECT m.id, m.status, m.tag, r.headers, r.to_recipients, r.reply_to, r.subject,
              (SELECT array_agg(type) FROM message_events e WHERE e.message_id = m.id) AS events
         FROM messages m JOIN email_requests r ON r.id = m.request_id WHERE m.id = ANY($1)`,
      [uuids],
    );
    expect(stored.rows).toHaveLength(4);
    for (const row of stored.rows) {
      expect(row).toMatchObject({
        status: 'pending',
        tag: 'receipt',
        headers: { 'X-Correlation-ID': 'order-1042', 'Auto-Submitted': 'auto-generated' },
        to_recipients: ['known@example.test', 'other@example.test', 'third@example.test'],
        reply_to: 'support@example.test',
        subject: 'Your receipt #1042',
        events: ['pending'],
      });
    }
    const requests = await t.db.query(
      'SELECT count(DISTINCT request_id)::int AS n FROM messages WHERE id = ANY($1)',
      [uuids],
    );
    expect(requests.rows[0].n).toBe(1);
  });

  it.each([
    ['bcc only', { to: undefined, bcc: ['hidden@example.test'] }, [['hidden@example.test', 'bcc']]],
    [
      'null for the optional fields (absent)',
      { bcc: null, headers: null, reply_to: null, html: null },
      [['someone@example.test', 'to']],
    ],
    ['html only', { text: undefined, html: '<b>hi</b>' }, [['someone@example.test', 'to']]],
    ['text only', {}, [['someone@example.test', 'to']]],
  ])('accepts %s', async (_, extra, expected) => {
    const res = await send(minimal(extra)).expect(202);
    expect(
      res.body.data.messages.map((m: { recipient: string; type: string }) => [m.recipient, m.type]),
    ).toEqual(expected);
  });

  it('accepts exactly 50 unique recipients and refuses 51', async () => {
    const addresses = Array.from({ length: 51 }, (_, i) => `r${i}@example.test`);
    const ok = await send(
      minimal({ to: addresses.slice(0, 40), bcc: [...addresses.slice(40, 50), 'R0@example.test'] }),
    );
    expect(ok.status).toBe(202);
    expect(ok.body.data.message_count).toBe(50);
    const tooMany = await send(minimal({ to: addresses.slice(0, 45), bcc: addresses.slice(45) })).expect(422);
    expect(fieldsOf(tooMany.body)).toEqual(['to']);
  });

  describe('422 validation_failed names each failing field', () => {
    it.each([
      ['from missing', { from: undefined }, ['from']],
      ['from malformed', { from: 'not-an-address' }, ['from']],
      ['subject missing', { subject: undefined }, ['subject']],
      ['subject empty', { subject: '' }, ['subject']],
      ['subject with a line break', { subject: 'Hi\r\nBcc: x@example.test' }, ['subject']],
      ['subject over 998 characters', { subject: 'x'.repeat(999) }, ['subject']],
      ['neither html nor text', { text: undefined }, ['html', 'text']],
      ['html and text both empty', { text: '', html: '' }, ['html', 'text']],
      ['html not a string', { html: 42 }, ['html']],
      ['no recipient', { to: [] }, ['to']],
      ['to not an array', { to: 'someone@example.test' }, ['to']],
      ['a bad to element', { to: ['ok@example.test', 'bad'] }, ['to[1]']],
      ['a bad bcc element', { bcc: ['nope@'] }, ['bcc[0]']],
      ['reply_to malformed', { reply_to: 'nope' }, ['reply_to']],
      ['headers as an array', { headers: ['X-A: 1'] }, ['headers']],
      ['a header value not a string', { headers: { 'X-Count': 1 } }, ['headers.X-Count']],
      ['a header name with a space', { headers: { 'X Bad': '1' } }, ['headers.X Bad']],
      ['a header value with CRLF', { headers: { 'X-A': 'a\r\nBcc: evil@example.test' } }, ['headers.X-A']],
      [
        'reply-to in a header, lower case',
        { headers: { 'reply-to': 'x@example.test' } },
        ['headers.reply-to'],
      ],
      ['Message-ID in a header, upper case', { headers: { 'MESSAGE-ID': '<x@y>' } }, ['headers.MESSAGE-ID']],
      [
        'From, To, Bcc, Subject, Return-Path headers',
        {
          headers: { from: 'a', TO: 'b', Bcc: 'c', SubJect: 'd', 'return-path': 'e' },
        },
        ['headers.from', 'headers.TO', 'headers.Bcc', 'headers.SubJect', 'headers.return-path'],
      ],
      ['X-Leadpush-Other', { headers: { 'X-Leadpush-Other': '1' } }, ['headers.X-Leadpush-Other']],
      [
        'a tag over 200 characters',
        { headers: { 'X-Leadpush-Tag': 't'.repeat(201) } },
        ['headers.X-Leadpush-Tag'],
      ],
      [
        'a header value over 2,000 characters',
        { headers: { 'X-Long': 'v'.repeat(2001) } },
        ['headers.X-Long'],
      ],
      [
        'headers that would break the MIME structure or promise a Cc',
        { headers: { 'content-type': 'text/html', Cc: 'x@example.test', 'MIME-Version': '2' } },
        ['headers.content-type', 'headers.Cc', 'headers.MIME-Version'],
      ],
      ['an unknown top-level field (cc)', { cc: ['x@example.test'] }, ['cc']],
    ])('%s', async (_, extra, fields) => {
      const res = await send(minimal(extra)).expect(422);
      expect(res.body).toEqual({
        error: 'validation_failed',
        message: expect.any(String),
        errors: expect.any(Array),
      });
      expect(fieldsOf(res.body).sort()).toEqual([...fields].sort());
      for (const error of res.body.errors) expect(error.message).toEqual(expect.any(String));
    });

    it('names every failing field at once', async () => {
      const res = await send({
        from: 'bad',
        subject: '',
        to: ['x'],
        headers: { Subject: 'x' },
        cc: [],
      }).expect(422);
      expect(fieldsOf(res.body).sort()).toEqual([
        'cc',
        'from',
        'headers.Subject',
        'html',
        'subject',
        'text',
        'to[0]',
      ]);
    });

    it('refuses a body that is not an object', async () => {
      const res = await ws
        .api('post', '/v1/emails')
        .set('Content-Type', 'application/json')
        .send('[1,2]')
        .expect(422);
      expect(res.body.error).toBe('validation_failed');
    });
  });

  it('stores X-Leadpush-Tag (any case) as the tag and does not keep it as a header', async () => {
    const res = await send(minimal({ headers: { 'x-leadpush-tag': 'welcome', 'X-Trace': 't1' } })).expect(
      202,
    );
    const row = await t.db.query(
      'SELECT m.tag, r.headers FROM messages m JOIN email_requests r ON r.id = m.request_id WHERE m.id = $1',
      [res.body.data.messages[0].uuid],
    );
    expect(row.rows[0]).toEqual({ tag: 'welcome', headers: { 'X-Trace': 't1' } });
  });

  describe('sender_not_verified', () => {
    it('for an address on an unverified domain', async () => {
      const domain = await ws
        .api('post', '/v1/domains')
        .send({ name: 'unverified.developer.test' })
        .expect(201);
      await ws.api('post', '/v1/addresses').send({ email: 'me@unverified.developer.test' }).expect(201);
      const res = await send(minimal({ from: 'me@unverified.developer.test' })).expect(422);
      expect(res.body).toEqual({ error: 'sender_not_verified', message: expect.any(String) });
      expect(domain.body.data.status).toBe('pending');
    });

    it('for an address of another workspace, and for an unknown address on a verified domain', async () => {
      const other = await createWorkspace(t);
      const theirs = await createSender(t, other);
      expect((await send(minimal({ from: theirs.email })).expect(422)).body.error).toBe(
        'sender_not_verified',
      );
      expect((await send(minimal({ from: `nobody@${sender.domain}` })).expect(422)).body.error).toBe(
        'sender_not_verified',
      );
    });

    it('comes after body validation', async () => {
      const res = await send(minimal({ from: `nobody@${sender.domain}`, subject: '' })).expect(422);
      expect(res.body.error).toBe('validation_failed');
    });
  });

  describe('checks in SPEC order', () => {
    it('401 before anything else', async () => {
      const res = await t.http.post('/v1/emails').send({}).expect(401);
      expect(res.body.error).toBe('unauthorized');
    });

    it('403 upgrade_needed when the owner lacks smtp.enabled, even for an invalid body', async () => {
      const noSmtp = await createWorkspace(t, { features: {} });
      const res = await send({ nonsense: true }, noSmtp).expect(403);
      expect(res.body).toEqual({
        error: 'upgrade_needed',
        message: expect.any(String),
        feature: 'smtp.enabled',
      });
    });

    it('403 email_verification_required when the owner is not verified', async () => {
      const unverified = await createWorkspace(t, { email_verified: false });
      const res = await send(minimal(), unverified).expect(403);
      expect(res.body).toEqual({ error: 'email_verification_required', message: expect.any(String) });
      await t
        .admin('patch', `/admin/v1/users/${unverified.userId}`)
        .send({ email_verified: true })
        .expect(200);
      expect((await send({ nonsense: true }, unverified).expect(422)).body.error).toBe('validation_failed');
    });
  });

  it('sends a contact with a sendable route from that route; others from the requested sender', async () => {
    const route = await createSender(t, ws, { local: 'care', name: 'Care Team' });
    const contact = await ws
      .api('post', '/v1/contacts')
      .send({ email: 'routed@example.test', delivery_address_id: route.addressId })
      .expect(201);
    const plain = await ws.api('post', '/v1/contacts').send({ email: 'plain@example.test' }).expect(201);
    const res = await send(
      minimal({ to: ['Routed@Example.test', 'plain@example.test'], bcc: ['stranger@example.test'] }),
    ).expect(202);
    expect(
      res.body.data.messages.map((m: { recipient: string; from: string }) => [m.recipient, m.from]),
    ).toEqual([
      ['routed@example.test', route.email],
      ['plain@example.test', sender.email],
      ['stranger@example.test', sender.email],
    ]);
    const links = await t.db.query(
      'SELECT recipient, contact_id FROM messages WHERE id = ANY($1) ORDER BY recipient',
      [res.body.data.messages.map((m: { uuid: string }) => m.uuid)],
    );
    expect(links.rows).toEqual([
      { recipient: 'plain@example.test', contact_id: plain.body.data.id },
      { recipient: 'routed@example.test', contact_id: contact.body.data.id },
      { recipient: 'stranger@example.test', contact_id: null },
    ]);
    const contacts = await ws.api('get', '/v1/contacts?email=stranger@example.test').expect(200);
    expect(contacts.body.data).toEqual([]);
  });
});
