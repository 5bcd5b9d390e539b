import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';

describe('API key modes (SPEC §4)', () => {
  let t: TestApp;
  let ws: Workspace;

  beforeAll(async () => {
    t = await createTestApp();
    ws = await createWorkspace(t);
  });
  afterAll(() => t.close());

  it('makes live keys by default and test keys that start with lp_test_, on both routes', async () => {
    const live = await ws.api('post', '/v1/api-keys').send({ name: 'default' }).expect(201);
    expect(live.body.data).toEqual({
      id: expect.any(String),
      name: 'default',
      mode: 'live',
      token: expect.any(String),
    });
    expect(live.body.data.token).toMatch(/^lp_(?!test_)/);

    const test = await ws.api('post', '/v1/api-keys').send({ name: 'ci', mode: 'test' }).expect(201);
    expect(test.body.data).toMatchObject({ name: 'ci', mode: 'test' });
    expect(test.body.data.token).toMatch(/^lp_test_[A-Za-z0-9_-]{43}$/);

    const operator = await t
      .admin('post', `/admin/v1/workspaces/${ws.workspaceId}/api-keys`)
      .send({ name: 'staging', mode: 'test' })
      .expect(201);
    expect(operator.body.data.mode).toBe('test');
    expect(operator.body.data.token).toMatch(/^lp_test_/);

    const listed = await ws.api('get', '/v1/api-keys').expect(200);
    const byName = Object.fromEntries(
      listed.body.data.map((k: { name: string; mode: string; token_prefix: string }) => [k.name, k]),
    );
    expect(byName.default).toMatchObject({ mode: 'live', token_prefix: live.body.data.token.slice(0, 8) });
    expect(byName.ci).toMatchObject({ mode: 'test', token_prefix: test.body.data.token.slice(0, 13) });
    expect(byName.staging.mode).toBe('test');
    expect(JSON.stringify(listed.body)).not.toContain(test.body.data.token);
  });

  it('authenticates a test key like any other', async () => {
    const test = await ws.api('post', '/v1/api-keys').send({ name: 'auth', mode: 'test' }).expect(201);
    await t.http.get('/v1/api-keys').set('Authorization', `Bearer ${test.body.data.token}`).expect(200);
    const { rows } = await t.db.query(`SELECT mode FROM api_keys WHERE id = $1`, [test.body.data.id]);
    expect(rows).toEqual([{ mode: 'test' }]);
  });

  it.each([['sandbox'], [''], [null], [1], [['test']]])(
    'refuses mode %j with a 422 and creates nothing',
    async (mode) => {
      const before = await t.db.query(`SELECT count(*)::int AS n FROM api_keys`);
      const res = await ws.api('post', '/v1/api-keys').send({ name: 'bad', mode }).expect(422);
      expect(res.body).toMatchObject({ error: 'validation_failed', errors: [{ field: 'mode' }] });
      const after = await t.db.query(`SELECT count(*)::int AS n FROM api_keys`);
      expect(after.rows[0].n).toBe(before.rows[0].n);
    },
  );
});
