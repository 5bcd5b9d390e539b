import fc from 'fast-check';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';

/** Values an attacker or a buggy client might put anywhere in a JSON body. */
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, '', ' ', '\r\n', '\u0000'),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      'a@b.test',
      ' A@B.TEST ',
      'x@y',
      '@',
      'a@b.test\r\nBcc: evil@x.test',
      '<a@b.test>',
      '"a"@b.test',
    ),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
    fc.constantFrom('x'.repeat(201), 'y'.repeat(255), `${'z'.repeat(250)}@example.test`, 'w'.repeat(2000)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'X-A', 'From', 'x y', ''), tie('value'), {
      maxKeys: 3,
    }),
  ),
})).value;

function bodyFor(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 8 })), hostileValue, {
    maxKeys: fields.length + 2,
  });
}

describe('hostile input never gets a 5xx', () => {
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;
  let contactId: string;

  beforeAll(async () => {
    t = await createTestApp();
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
    contactId = (await ws.api('post', '/v1/contacts').send({ email: 'target@example.test' }).expect(201)).body
      .data.id;
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
      ['from', 'to', 'bcc', 'subject', 'html', 'text', 'reply_to', 'headers'],
      'workspace',
    ],
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
      .replace(':workspace', ws.workspaceId);
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
              fc.string({ maxLength: 30 }),
              fc.constantFrom('X-Leadpush-Tag', 'x-leadpush-tag', 'X-Custom'),
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

  it('raw bodies that are not JSON, odd content types, ids and query strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-16',
        ),
        fc.string({ unit: 'binary', maxLength: 40 }),
        async (raw, contentType, id) => {
          expectClientError(await ws.api('post', '/v1/emails').set('Content-Type', contentType).send(raw));
          expectClientError(await ws.api('get', `/v1/messages/${encodeURIComponent(id)}`));
          expectClientError(
            await ws.api(
              'get',
              `/v1/messages?cursor=${encodeURIComponent(id)}&limit=${encodeURIComponent(id)}`,
            ),
          );
          expectClientError(await ws.api('delete', `/v1/suppressions/${encodeURIComponent(id)}`));
          const encoded = encodeURIComponent(id);
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
          expectClientError(
            await ws.api(
              'get',
              `/v1/contacts?email=${encodeURIComponent(id)}&cursor=${encodeURIComponent(id)}`,
            ),
          );
        },
      ),
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
