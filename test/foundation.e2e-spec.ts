import { DataSource } from 'typeorm';
import { createTestApp, createWorkspace, TestApp } from './support/app';

interface OpenApiOperation {
  responses: Record<string, { content?: Record<string, unknown> }>;
}

describe('foundation', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('bootstraps user → workspace → key, and the key works', async () => {
    const ws = await createWorkspace(t);
    expect(ws.token).toMatch(/^lp_[\w-]{40,}$/);
    const keys = await ws.api('get', '/v1/api-keys').expect(200);
    expect(keys.body).toEqual({
      data: [
        {
          id: ws.apiKeyId,
          name: 'test key',
          mode: 'live',
          token_prefix: ws.token.slice(0, 8),
          created_at: expect.any(String),
        },
      ],
      next_cursor: null,
    });
    expect(JSON.stringify(keys.body)).not.toContain(ws.token);
    const hashes = await t.db.query('SELECT token_hash FROM api_keys WHERE id = $1', [ws.apiKeyId]);
    expect(hashes.rows[0].token_hash.toString('hex')).not.toContain(Buffer.from(ws.token).toString('hex'));
  });

  it.each([
    ['missing', undefined],
    ['garbage', 'Bearer not-a-token'],
    ['well-formed but unknown', 'Bearer lp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['wrong scheme', 'Basic abc'],
  ])('401 for a %s token', async (_, header) => {
    const call = t.http.get('/v1/api-keys');
    if (header) call.set('Authorization', header);
    const res = await call.expect(401);
    expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
  });

  it('a deleted key is refused at once, even right after being cached', async () => {
    const ws = await createWorkspace(t);
    const second = await ws.api('post', '/v1/api-keys').send({ name: 'second' }).expect(201);
    const token = second.body.data.token as string;
    await t.http.get('/v1/api-keys').set('Authorization', `Bearer ${token}`).expect(200);
    await ws.api('delete', `/v1/api-keys/${second.body.data.id}`).expect(204);
    await t.http.get('/v1/api-keys').set('Authorization', `Bearer ${token}`).expect(401);
    await ws.api('delete', `/v1/api-keys/${second.body.data.id}`).expect(404);
    const list = await ws.api('get', '/v1/api-keys').expect(200);
    expect(list.body.data.map((k: { id: string }) => k.id)).toEqual([ws.apiKeyId]);
  });

  it("a key of workspace A never sees or deletes workspace B's keys", async () => {
    const a = await createWorkspace(t);
    const b = await createWorkspace(t);
    const listA = await a.api('get', '/v1/api-keys').expect(200);
    expect(listA.body.data.map((k: { id: string }) => k.id)).toEqual([a.apiKeyId]);
    await a.api('delete', `/v1/api-keys/${b.apiKeyId}`).expect(404);
    await b.api('get', '/v1/api-keys').expect(200);
  });

  it('lists keys with a cursor and refuses a malformed one', async () => {
    const ws = await createWorkspace(t);
    for (const name of ['k1', 'k2', 'k3']) await ws.api('post', '/v1/api-keys').send({ name }).expect(201);
    const first = await ws.api('get', '/v1/api-keys?limit=2').expect(200);
    expect(first.body.data.map((k: { name: string }) => k.name)).toEqual(['k3', 'k2']);
    const second = await ws.api('get', `/v1/api-keys?limit=2&cursor=${first.body.next_cursor}`).expect(200);
    expect(second.body.data.map((k: { name: string }) => k.name)).toEqual(['k1', 'test key']);
    expect(second.body.next_cursor).toBeNull();
    const bad = await ws.api('get', '/v1/api-keys?cursor=%%%garbage').expect(422);
    expect(bad.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
    await ws.api('get', '/v1/api-keys?limit=0').expect(422);
    await ws.api('get', '/v1/api-keys?limit=101').expect(422);
  });

  describe('operator API', () => {
    it('refuses a wrong admin token', async () => {
      await t.http
        .post('/admin/v1/users')
        .set('Authorization', 'Bearer wrong')
        .send({ email: 'x@y.test' })
        .expect(401);
    });

    it('creates and patches users, with validation and conflicts', async () => {
      const created = await t
        .admin('post', '/admin/v1/users')
        .send({ email: '  Mixed@Case.TEST ', name: 'Mixed' })
        .expect(201);
      expect(created.body.data).toEqual({
        id: expect.any(String),
        email: 'mixed@case.test',
        email_verified: false,
        features: {},
      });
      const dup = await t.admin('post', '/admin/v1/users').send({ email: 'mixed@case.test' }).expect(409);
      expect(dup.body.error).toBe('conflict');
      const patched = await t
        .admin('patch', `/admin/v1/users/${created.body.data.id}`)
        .send({ email_verified: true, features: { 'smtp.enabled': true } })
        .expect(200);
      expect(patched.body.data).toMatchObject({ email_verified: true, features: { 'smtp.enabled': true } });
      await t.admin('patch', '/admin/v1/users/not-a-uuid').send({ email_verified: true }).expect(404);
      await t
        .admin('patch', '/admin/v1/users/00000000-0000-4000-8000-000000000000')
        .send({ email_verified: true })
        .expect(404);
    });

    it('validates workspaces and keys', async () => {
      const res = await t
        .admin('post', '/admin/v1/workspaces')
        .send({ name: 'x', owner_id: '00000000-0000-4000-8000-000000000000' })
        .expect(422);
      expect(res.body.errors).toEqual([{ field: 'owner_id', message: expect.any(String) }]);
      await t.admin('post', '/admin/v1/workspaces/nope/api-keys').send({ name: 'k' }).expect(404);
    });
  });

  describe('error format', () => {
    it('400 invalid_json', async () => {
      const ws = await createWorkspace(t);
      const res = await ws
        .api('post', '/v1/api-keys')
        .set('Content-Type', 'application/json')
        .send('{"name": ')
        .expect(400);
      expect(res.body).toEqual({ error: 'invalid_json', message: expect.any(String) });
    });

    it('404 not_found for an unknown route, as JSON', async () => {
      const res = await t.http.get('/no/such/route').expect(404).expect('Content-Type', /json/);
      expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
    });

    it('413 payload_too_large over 10 MB', async () => {
      const ws = await createWorkspace(t);
      const res = await ws
        .api('post', '/v1/emails')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ subject: 'x'.repeat(10 * 1024 * 1024 + 10) }))
        .expect(413);
      expect(res.body).toEqual({ error: 'payload_too_large', message: 'Request body is larger than 10 MB' });
    });

    it('500 internal_error without internals when something unexpected breaks', async () => {
      const broken = await createTestApp();
      try {
        await broken.db.query('ALTER TABLE users RENAME TO users_gone');
        const res = await broken
          .admin('post', '/admin/v1/users')
          .send({ email: 'x@example.test' })
          .expect(500);
        expect(res.body).toEqual({
          error: 'internal_error',
          message: 'Internal server error',
          error_id: expect.any(String),
        });
        expect(JSON.stringify(res.body)).not.toMatch(/users_gone|stack|relation/);
      } finally {
        await broken.close();
      }
    });

    it('422 validation_failed names every failing field and rejects unknown ones', async () => {
      const ws = await createWorkspace(t);
      const res = await ws.api('post', '/v1/api-keys').send({ name: '', extra: 1 }).expect(422);
      expect(res.body.error).toBe('validation_failed');
      const fields = res.body.errors.map((e: { field: string }) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['name', 'extra']));
    });
  });

  it('serves Swagger UI and an OpenAPI 3 document listing the routes', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/admin/v1/users',
        '/admin/v1/workspaces',
        '/v1/api-keys',
        '/v1/api-keys/{id}',
        '/health',
      ]),
    );
    expect(doc.body.components.securitySchemes).toHaveProperty('api-key');
    expect(doc.body.components.schemas.CreateUserDto.properties.email).toMatchObject({ type: 'string' });
    const undocumented = Object.entries(
      doc.body.paths as Record<string, Record<string, OpenApiOperation>>,
    ).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, op]) =>
          Object.entries(op.responses).every(
            ([status, res]) => status !== '204' && !res.content?.['application/json'],
          ),
        )
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(undocumented).toEqual([]);
    expect(doc.body.paths['/v1/emails'].post.responses['202'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AcceptedEmailResponse',
    });
    const ui = await t.http.get('/docs').expect(200);
    expect(ui.text).toContain('swagger-ui');
  });

  it('the migrations build exactly the schema the entities describe (migration:generate finds nothing)', async () => {
    const pending = await t.app.get(DataSource).driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('health answers 200 when PostgreSQL and Redis answer', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.body.details).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
  });
});
