import fc from 'fast-check';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';

/** Halves of surrogate pairs, alone: JSON can carry them (`"\ud800"`), PostgreSQL cannot store them. */
const loneSurrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b');

/**
 * Strings of every kind: any code point ('binary' never makes a lone
 * surrogate), ASCII with control characters, full-Unicode graphemes, and
 * well-formed text with a lone surrogate mixed in.
 */
const anyString = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'binary-ascii', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc
      .tuple(
        fc.string({ unit: 'grapheme', maxLength: maxLength / 2 }),
        loneSurrogate,
        fc.string({ maxLength: 4 }),
      )
      .map(([before, lone, after]) => before + lone + after),
  );

/** Values an attacker or a buggy client might put anywhere in a JSON body. */
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, '', ' ', '\r\n', '\u0000'),
    anyString(40),
    fc.constantFrom(
      'a@b.test',
      ' A@B.TEST ',
      'x@y',
      '@',
      'a@b.test\r\nBcc: evil@x.test',
      '<a@b.test>',
      '"a"@b.test',
      '"a\r\nb"@b.test',
      '"a,b"@b.test',
      '\ud800@b.test',
      'a@b\udfff.test',
      `${'İ'.repeat(21)}@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(40)}.test`,
    ),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
    fc.constantFrom(
      'x'.repeat(201),
      'y'.repeat(255),
      `${'z'.repeat(250)}@example.test`,
      'w'.repeat(2000),
      'v\ufe0f'.repeat(150),
    ),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(fc.constantFrom('__proto__', 'constructor', 'X-A', 'From', 'x y', ''), anyString(8)),
      tie('value'),
      { maxKeys: 3 },
    ),
  ),
})).value;

function bodyFor(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fc.oneof(fc.constantFrom(...fields), anyString(8)), hostileValue, {
    maxKeys: fields.length + 2,
  });
}

describe('hostile input never gets a 5xx', () => {
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let contactId: string;
  let webhookId: string;

  beforeAll(async () => {
    t = await createTestApp();
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    contactId = (await ws.api('post', '/v1/contacts').send({ email: 'target@example.test' }).expect(201)).body
      .data.id;
    // TEST-NET-1: allowed by the address rule, routed nowhere; and no delayed event ever happens here.
    webhookId = (
      await ws
        .api('post', '/v1/webhooks')
        .send({ url: 'https://192.0.2.1/hook', events: ['message.delayed'] })
        .expect(201)
    ).body.data.id;
  });
  afterAll(() => t.close());

  const expectClientError = (res: { status: number; body: unknown; headers: Record<string, string> }) => {
    expect(res.status).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    if (res.status >= 400)
      expect(res.body).toEqual(
        expect.objectContaining({ error: expect.any(String), message: expect.any(String) }),
      );
  };

  /** [method, path (resolved when the test runs), body fields, who calls]. */
  const routes: [string, string, string[], 'workspace' | 'operator'][] = [
    [
      'POST',
      '/v1/emails',
      ['from', 'to', 'bcc', 'subject', 'html', 'text', 'reply_to', 'headers', 'attachments', 'scheduled_at'],
      'workspace',
    ],
    ['POST', '/v1/emails/batch', ['emails'], 'workspace'],
    ['POST', '/v1/domains', ['name'], 'workspace'],
    ['POST', '/v1/addresses', ['email', 'name'], 'workspace'],
    ['POST', '/v1/contacts', ['email', 'first_name', 'last_name', 'delivery_address_id'], 'workspace'],
    [
      'PATCH',
      '/v1/contacts/:contact',
      ['email', 'first_name', 'last_name', 'delivery_address_id'],
      'workspace',
    ],
    ['POST', '/v1/suppressions', ['email'], 'workspace'],
    ['POST', '/v1/webhooks', ['url', 'events'], 'workspace'],
    ['PATCH', '/v1/webhooks/:webhook', ['url', 'events', 'enabled'], 'workspace'],
    ['POST', '/v1/api-keys', ['name'], 'workspace'],
    ['POST', '/admin/v1/users', ['email', 'name', 'email_verified', 'features'], 'operator'],
    ['PATCH', '/admin/v1/users/:owner', ['email_verified', 'features'], 'operator'],
    ['POST', '/admin/v1/workspaces', ['name', 'owner_id'], 'operator'],
    ['POST', '/admin/v1/workspaces/:workspace/api-keys', ['name'], 'operator'],
  ];

  it.each(routes)('%s %s with generated bodies', async (method, template, fields, caller) => {
    const path = template
      .replace(':contact', contactId)
      .replace(':owner', ws.userId)
      .replace(':workspace', ws.workspaceId)
      .replace(':webhook', webhookId);
    const verb = method.toLowerCase() as 'post' | 'patch';
    await fc.assert(
      fc.asyncProperty(bodyFor(fields), async (body) => {
        const res = await (caller === 'operator' ? t.admin(verb, path) : ws.api(verb, path)).send(body);
        expectClientError(res);
      }),
      { numRuns: 200 },
    );
  });

  const absentOr = <T>(arbitrary: fc.Arbitrary<T>) =>
    fc.oneof(fc.constant(undefined), fc.constant(null), arbitrary);
  const valid = () => ({ from: sender.email, subject: 's', text: 't', to: ['someone@example.test'] });

  it('POST /v1/emails: otherwise valid, with generated headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        absentOr(
          fc.dictionary(
            fc.oneof(
              anyString(30),
              fc.constantFrom(
                'X-Leadpush-Tag',
                'x-leadpush-tag',
                'X-Custom',
                'Content-Id',
                'ARC-Seal',
                'Date',
              ),
            ),
            fc.oneof(hostileValue, fc.string({ minLength: 150, maxLength: 2100 })),
            { maxKeys: 4 },
          ),
        ),
        async (headers) =>
          expectClientError(await ws.api('post', '/v1/emails').send({ ...valid(), headers })),
      ),
      { numRuns: 300, endOnFailure: true },
    );
  });

  it('POST /v1/emails: otherwise valid, with generated recipients and reply_to', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(['someone@example.test']), fc.array(hostileValue, { maxLength: 5 })),
        absentOr(fc.array(hostileValue, { maxLength: 3 })),
        absentOr(hostileValue),
        async (to, bcc, replyTo) =>
          expectClientError(
            await ws.api('post', '/v1/emails').send({ ...valid(), to, bcc, reply_to: replyTo }),
          ),
      ),
      { numRuns: 300, endOnFailure: true },
    );
  });

  /**
   * A path segment or query value: any well-formed string percent-encoded, or
   * raw bytes (invalid UTF-8, encoded surrogates, overlong NUL, a lone `%`).
   */
  const urlPart = fc.oneof(
    fc
      .oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }))
      .map(encodeURIComponent),
    fc
      .uint8Array({ maxLength: 12 })
      .map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
    fc.constantFrom('%ED%A0%80', '%ED%BF%BFx', '%F4%90%80%80', '%C0%80', '%00', '%', 'a%2'),
  );

  it('raw bodies that are not JSON, odd content types, ids and query strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyString(200),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-16',
        ),
        urlPart,
        async (raw, contentType, encoded) => {
          expectClientError(await ws.api('post', '/v1/emails').set('Content-Type', contentType).send(raw));
          expectClientError(await ws.api('get', `/v1/messages/${encoded}`));
          expectClientError(await ws.api('get', `/v1/messages?cursor=${encoded}&limit=${encoded}`));
          expectClientError(await ws.api('get', `/v1/messages?recipient=${encoded}&tag=${encoded}`));
          expectClientError(await ws.api('delete', `/v1/suppressions/${encoded}`));
          for (const [method, path] of [
            ['get', `/v1/domains/${encoded}`],
            ['post', `/v1/domains/${encoded}/verify`],
            ['delete', `/v1/addresses/${encoded}`],
            ['get', `/v1/contacts/${encoded}`],
            ['delete', `/v1/api-keys/${encoded}`],
          ] as const) {
            expectClientError(await ws.api(method, path));
          }
          expectClientError(await t.admin('post', `/admin/v1/domains/${encoded}/verify`));
          expectClientError(
            await t.admin('patch', `/admin/v1/users/${encoded}`).send({ email_verified: true }),
          );
          expectClientError(await ws.api('get', `/v1/contacts?email=${encoded}&cursor=${encoded}`));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('webhook ids and query strings', async () => {
    await fc.assert(
      fc.asyncProperty(urlPart, async (encoded) => {
        for (const [method, path] of [
          ['get', `/v1/webhooks/${encoded}`],
          ['delete', `/v1/webhooks/${encoded}`],
          ['get', `/v1/webhooks/${encoded}/deliveries`],
          ['get', `/v1/webhooks/${webhookId}/deliveries?cursor=${encoded}&limit=${encoded}`],
        ] as const) {
          expectClientError(await ws.api(method, path));
        }
      }),
      { numRuns: 100 },
    );
  });

  /** Cursors shaped like ours, with any date (PostgreSQL's range and beyond) and any id, or any JSON at all. */
  const craftedCursor = fc
    .oneof(
      fc.tuple(
        fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          anyString(30),
          hostileValue,
        ),
        fc.oneof(fc.uuid(), anyString(30), hostileValue),
      ),
      hostileValue,
    )
    .map((value) => Buffer.from(JSON.stringify(value) ?? '').toString('base64url'));

  it('crafted cursors on every list route', async () => {
    const lists = [
      '/v1/api-keys',
      '/v1/domains',
      '/v1/addresses',
      '/v1/contacts',
      '/v1/messages',
      '/v1/suppressions',
      '/v1/webhooks',
      `/v1/webhooks/${webhookId}/deliveries`,
    ];
    await fc.assert(
      fc.asyncProperty(craftedCursor, async (cursor) => {
        for (const list of lists) {
          const res = await ws.api('get', `${list}?cursor=${cursor}`);
          expectClientError(res);
          if (res.status !== 200) expect(res.body.error).toBe('validation_failed');
        }
      }),
      { numRuns: 150 },
    );
  });

  it.each([33, 10_000, 1_000_000])('refuses a body nested %i levels deep with a 422', async (depth) => {
    const res = await ws
      .api('post', '/v1/emails')
      .set('Content-Type', 'application/json')
      .send(`{"to":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ field: 'body', message: expect.any(String) }]);
  });

  it('is still healthy afterwards', async () => {
    await t.http.get('/health').expect(200);
  });
});
