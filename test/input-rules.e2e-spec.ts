import { randomUUID } from 'node:crypto';
import type request from 'supertest';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender, Sender } from './support/sending';

/**
 * The rules of every input (libs/common/src/validation/input-rules.ts) and of
 * addresses, cursors and reserved headers, on every route: a JSON 4xx with
 * the field named, and nothing stored or changed.
 */

const LONE = 'must be well-formed Unicode (no lone surrogates)';
const FORBIDDEN_KEY = '__proto__ and constructor are not allowed as keys';

/** Ways to spoil a string with a lone surrogate: a high one first, a low one last, a high one inside. */
const spoilers: ((s: string) => string)[] = [
  (s) => `\ud800${s}`,
  (s) => `${s}\udfff`,
  (s) => `${s.slice(0, 1)}\ud83d${s.slice(1)}`,
];

/** How the API names a path in `errors`, lone surrogates spelled as escapes. */
const escaped = (s: string) => s.replace(/\p{Cs}/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

type Path = (string | number)[];
const fieldOf = (path: Path) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

/** Every string value and every object key inside `value`, as paths. */
function stringsAndKeys(value: unknown, path: Path = []): { path: Path; isKey: boolean }[] {
  if (typeof value === 'string') return [{ path, isKey: false }];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsAndKeys(item, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [
      { path: [...path, key], isKey: true },
      ...stringsAndKeys(item, [...path, key]),
    ]);
  }
  return [];
}

/** A copy of `body` with the string (or key) at `path` passed through `spoil`; answers the spoilt path. */
function spoilAt(body: object, path: Path, isKey: boolean, spoil: (s: string) => string) {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let parent = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (!isKey) {
    parent[last] = spoil(parent[last] as string);
    return { body: copy, field: fieldOf(path) };
  }
  const renamed = spoil(String(last));
  const entries = Object.entries(parent).map(([k, v]) => [k === last ? renamed : k, v]);
  for (const key of Object.keys(parent)) delete parent[key];
  Object.assign(parent, Object.fromEntries(entries));
  return { body: copy, field: escaped(fieldOf([...path.slice(0, -1), renamed])) };
}

describe('input rules on every route', () => {
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

  /** Every row of every table the API writes: equal before and after means nothing was stored or changed. */
  async function stored(): Promise<string> {
    const tables = [
      'users',
      'workspaces',
      'api_keys',
      'domains',
      'addresses',
      'contacts',
      'email_requests',
      'messages',
      'message_events',
      'suppressions',
      'idempotency_keys',
    ];
    const { rows } = await t.db.query(
      `SELECT ${tables.map((table) => `(SELECT string_agg(x::text, '|' ORDER BY x::text) FROM ${table} x) AS ${table}`).join(', ')}`,
    );
    return JSON.stringify(rows[0]);
  }

  /** [method, path, caller, a body the route accepts]. */
  const writeRoutes = (): [string, string, 'workspace' | 'operator', object][] => [
    [
      'POST',
      '/v1/emails',
      'workspace',
      {
        from: sender.email,
        to: ['someone@example.test'],
        bcc: ['audit@example.test'],
        reply_to: 'support@example.test',
        subject: 'Hello',
        html: '<p>Hi</p>',
        text: 'Hi',
        headers: { 'X-Custom': 'value', 'X-Leadpush-Tag': 'welcome' },
        attachments: [
          { filename: 'notes.txt', content: 'aGk=', content_type: 'text/plain', content_id: 'n1' },
        ],
        scheduled_at: '2020-01-01T00:00:00Z',
      },
    ],
    [
      'POST',
      '/v1/emails/batch',
      'workspace',
      {
        emails: [
          { from: sender.email, to: ['someone@example.test'], subject: 'One', text: 'Hi' },
          {
            from: sender.email,
            bcc: ['audit@example.test'],
            subject: 'Two',
            html: '<p>Hi</p>',
            headers: { 'X-Custom': 'value' },
            attachments: [{ filename: 'a.txt', content: 'aGk=' }],
          },
        ],
      },
    ],
    ['POST', '/v1/domains', 'workspace', { name: 'fresh.example.test' }],
    ['POST', '/v1/addresses', 'workspace', { email: `other@${sender.domain}`, name: 'Other' }],
    [
      'POST',
      '/v1/contacts',
      'workspace',
      {
        email: 'new@example.test',
        first_name: 'Ada',
        last_name: 'Lovelace',
        delivery_address_id: sender.addressId,
      },
    ],
    [
      'PATCH',
      `/v1/contacts/${contactId}`,
      'workspace',
      {
        email: 'renamed@example.test',
        first_name: 'Ada',
        last_name: 'Byron',
        delivery_address_id: sender.addressId,
      },
    ],
    ['POST', '/v1/suppressions', 'workspace', { email: 'blocked@example.test' }],
    ['POST', '/v1/api-keys', 'workspace', { name: 'ci' }],
    [
      'POST',
      '/admin/v1/users',
      'operator',
      {
        email: 'second@owner.test',
        name: 'Second Owner',
        email_verified: true,
        features: { 'smtp.enabled': true },
      },
    ],
    [
      'PATCH',
      `/admin/v1/users/${ws.userId}`,
      'operator',
      { email_verified: true, features: { 'smtp.enabled': true } },
    ],
    ['POST', '/admin/v1/workspaces', 'operator', { name: 'Second', owner_id: ws.userId }],
    ['POST', `/admin/v1/workspaces/${ws.workspaceId}/api-keys`, 'operator', { name: 'deploy' }],
  ];

  const call = (method: string, path: string, caller: 'workspace' | 'operator'): request.Test => {
    const verb = method.toLowerCase() as 'post' | 'patch' | 'get' | 'delete';
    return caller === 'operator' ? t.admin(verb, path) : ws.api(verb, path);
  };

  const expectValidationFailed = (res: request.Response, errors: { field: string; message?: string }[]) => {
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect({ status: res.status, error: res.body.error }).toEqual({
      status: 422,
      error: 'validation_failed',
    });
    expect(res.body.errors).toEqual(expect.arrayContaining(errors.map((e) => expect.objectContaining(e))));
  };

  it('a lone surrogate in any string or key of any write body is a 422 naming it, and stores nothing', async () => {
    const before = await stored();
    let checked = 0;
    for (const [method, path, caller, body] of writeRoutes()) {
      for (const { path: at, isKey } of stringsAndKeys(body)) {
        for (const spoil of spoilers) {
          const { body: bad, field } = spoilAt(body, at, isKey, spoil);
          const res = await call(method, path, caller).send(bad);
          const where = `${method} ${path} ${field}`;
          expect({ where, status: res.status, error: res.body.error, errors: res.body.errors }).toEqual({
            where,
            status: 422,
            error: 'validation_failed',
            errors: expect.arrayContaining([{ field, message: LONE }]),
          });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(await stored()).toBe(before);
  });

  it.each([
    ['top level', '{"constructor": "x", "name": "ci"}', 'constructor'],
    ['top level __proto__', '{"__proto__": {"name": "x"}, "name": "ci"}', '__proto__'],
  ])('a %s forbidden key is a 422 on every write route', async (_, raw, field) => {
    const before = await stored();
    for (const [method, path, caller] of writeRoutes()) {
      const res = await call(method, path, caller).set('Content-Type', 'application/json').send(raw);
      expectValidationFailed(res, [{ field, message: FORBIDDEN_KEY }]);
    }
    expect(await stored()).toBe(before);
  });

  it('__proto__ and constructor nested in a send (headers, recipients) or in feature flags are a 422', async () => {
    const before = await stored();
    const send = (extra: string) =>
      `{"from": "${sender.email}", "subject": "s", "text": "t", "to": ["a@example.test"], ${extra}}`;
    const cases: [string, string, 'workspace' | 'operator', string, string][] = [
      [
        '/v1/emails',
        'POST',
        'workspace',
        send('"headers": {"constructor": "x", "X-A": "1"}'),
        'headers.constructor',
      ],
      ['/v1/emails', 'POST', 'workspace', send('"headers": {"__proto__": "x"}'), 'headers.__proto__'],
      ['/v1/emails', 'POST', 'workspace', send('"bcc": [{"__proto__": {"a": 1}}]'), 'bcc[0].__proto__'],
      [
        '/admin/v1/users',
        'POST',
        'operator',
        '{"email": "third@owner.test", "features": {"constructor": true}}',
        'features.constructor',
      ],
      [
        `/admin/v1/users/${ws.userId}`,
        'PATCH',
        'operator',
        '{"features": {"__proto__": true}}',
        'features.__proto__',
      ],
    ];
    for (const [path, method, caller, raw, field] of cases) {
      const res = await call(method, path, caller).set('Content-Type', 'application/json').send(raw);
      expectValidationFailed(res, [{ field, message: FORBIDDEN_KEY }]);
    }
    expect(await stored()).toBe(before);
  });

  it('route parameters and queries with NUL or bytes that are no UTF-8 get a JSON 4xx', async () => {
    const before = await stored();
    for (const [method, path] of [
      ['delete', '/v1/suppressions/%ED%A0%80x%40example.test'],
      ['delete', '/v1/suppressions/x%00%40example.test'],
      ['get', '/v1/contacts?email=%ED%A0%80x%40example.test'],
      ['get', '/v1/messages?recipient=%00&tag=%ED%B0%80'],
      ['get', '/v1/contacts/%ED%A0%80'],
    ] as const) {
      const res = await ws.api(method, path);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body).toEqual(expect.objectContaining({ error: expect.any(String) }));
    }
    const nul = await ws.api('delete', '/v1/suppressions/x%00%40example.test');
    expectValidationFailed(nul, [{ field: 'email', message: 'must not contain NUL characters' }]);
    expect(await stored()).toBe(before);
  });

  describe('crafted cursors', () => {
    const cursor = (json: string) => Buffer.from(json).toString('base64url');
    const id = randomUUID();
    const crafted: [string, string][] = [
      ['a date before year 0', cursor(`["-100000-01-01T00:00:00.000Z","${id}"]`)],
      ["JavaScript's last date", cursor(`["+275760-09-13T00:00:00.000Z","${id}"]`)],
      ['a NUL in the id', cursor('["2026-01-01T00:00:00.000Z","a\\u0000@example.test"]')],
      ['a lone surrogate in the id', cursor('["2026-01-01T00:00:00.000Z","\\ud800@example.test"]')],
      ['a date that is no ISO form', cursor(`["Tue, 01 Dec 2026 00:00:00 GMT","${id}"]`)],
      ['no array', cursor(`{"at": "2026-01-01T00:00:00.000Z"}`)],
    ];
    const lists = [
      '/v1/api-keys',
      '/v1/domains',
      '/v1/addresses',
      '/v1/contacts',
      '/v1/messages',
      '/v1/suppressions',
    ];

    it.each(crafted)('%s is a 422 on every list route', async (_, value) => {
      for (const list of lists) {
        const res = await ws.api('get', `${list}?cursor=${value}`);
        expectValidationFailed(res, [{ field: 'cursor', message: 'cursor is malformed' }]);
      }
    });

    it('a cursor the API wrote still works, with an email as the suppressions id', async () => {
      await ws.api('post', '/v1/suppressions').send({ email: 'paged-1@example.test' }).expect(201);
      await ws.api('post', '/v1/suppressions').send({ email: 'paged-2@example.test' }).expect(201);
      await ws.api('post', '/v1/api-keys').send({ name: 'second key' }).expect(201);
      for (const list of ['/v1/suppressions', '/v1/api-keys']) {
        const first = await ws.api('get', `${list}?limit=1`).expect(200);
        expect(first.body.next_cursor).toEqual(expect.any(String));
        const second = await ws.api('get', `${list}?limit=1&cursor=${first.body.next_cursor}`).expect(200);
        expect(second.body.data).toHaveLength(1);
        expect(second.body.data[0]).not.toEqual(first.body.data[0]);
      }
    });
  });

  describe('addresses are validated as they are stored', () => {
    /** At most 254 characters as given; over 254 once lower-cased ('İ' becomes 'i' and U+0307). */
    const growing = `${'İ'.repeat(21)}@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(40)}.test`;

    it('the İ address is at most 254 characters but grows past them when lower-cased', () => {
      expect(growing.length).toBeLessThanOrEqual(254);
      expect(growing.toLowerCase().length).toBeGreaterThan(254);
    });

    it.each([
      ['to', (a: string) => ({ to: [a] }), 'to[0]'],
      ['bcc', (a: string) => ({ to: ['ok@example.test'], bcc: [a] }), 'bcc[0]'],
      ['from', (a: string) => ({ to: ['ok@example.test'], from: a }), 'from'],
      ['reply_to', (a: string) => ({ to: ['ok@example.test'], reply_to: a }), 'reply_to'],
    ])('POST /v1/emails refuses the İ address in %s and stores nothing', async (_, part, field) => {
      const before = await stored();
      const res = await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, subject: 's', text: 't', ...part(growing) });
      expectValidationFailed(res, [{ field }]);
      expect(await stored()).toBe(before);
    });

    it('contacts, suppressions and users refuse the İ address too', async () => {
      const before = await stored();
      for (const [path, caller, email] of [
        ['/v1/contacts', 'workspace', growing],
        ['/v1/suppressions', 'workspace', growing],
        ['/admin/v1/users', 'operator', growing],
      ] as const) {
        expectValidationFailed(await call('POST', path, caller).send({ email }), [{ field: 'email' }]);
      }
      expect(await stored()).toBe(before);
    });

    it.each([
      '"a\r\nBcc: x@example.test"@example.test',
      '"a\nb"@example.test',
      '"a<b"@example.test',
      '"a>b"@example.test',
      '"a,b"@example.test',
      '"a\u0001b"@example.test',
    ])('refuses %j as a recipient, a contact, a suppression and a user', async (address) => {
      const before = await stored();
      expectValidationFailed(
        await ws
          .api('post', '/v1/emails')
          .send({ from: sender.email, subject: 's', text: 't', to: [address] }),
        [{ field: 'to[0]' }],
      );
      for (const [path, caller] of [
        ['/v1/contacts', 'workspace'],
        ['/v1/suppressions', 'workspace'],
        ['/admin/v1/users', 'operator'],
      ] as const) {
        expectValidationFailed(await call('POST', path, caller).send({ email: address }), [
          { field: 'email' },
        ]);
      }
      expect(await stored()).toBe(before);
    });
  });

  it('names are counted as the database counts them: 300 characters with variation selectors are too long', async () => {
    const long = 'a\ufe0f'.repeat(150);
    const before = await stored();
    for (const [method, path, caller, body] of writeRoutes().filter(([, path]) => path !== '/v1/domains')) {
      for (const name of ['name', 'first_name', 'last_name'].filter((n) => n in body)) {
        const res = await call(method, path, caller).send({ ...body, [name]: long });
        expectValidationFailed(res, [{ field: name, message: `${name} must be at most 200 characters` }]);
      }
    }
    expect(await stored()).toBe(before);
    const emoji = await ws.api('post', '/v1/api-keys').send({ name: '😀'.repeat(200) });
    expect(emoji.status).toBe(201);
    expect(emoji.body.data.name).toBe('😀'.repeat(200));
  });

  it('Date, Received, Authentication-Results and Content-*, Resent-*, ARC-* headers are reserved', async () => {
    const before = await stored();
    const names = [
      'Date',
      'Received',
      'Authentication-Results',
      'Content-Disposition',
      'content-id',
      'Content-Type',
      'Resent-From',
      'ARC-Seal',
      'arc-message-signature',
    ];
    const res = await ws.api('post', '/v1/emails').send({
      from: sender.email,
      subject: 's',
      text: 't',
      to: ['ok@example.test'],
      headers: Object.fromEntries(names.map((name) => [name, 'x'])),
    });
    expectValidationFailed(
      res,
      names.map((name) => ({ field: `headers.${name}` })),
    );
    expect(await stored()).toBe(before);
  });

  it('accepts every valid body used above: each refusal was the spoilt value', async () => {
    const statuses = [];
    for (const [method, path, caller, body] of writeRoutes()) {
      statuses.push(`${method} ${path} ${(await call(method, path, caller).send(body)).status}`);
    }
    expect(statuses).toEqual(
      writeRoutes().map(([method, path]) => expect.stringMatching(new RegExp(`^${method} ${path} 20[012]$`))),
    );
  });
});
