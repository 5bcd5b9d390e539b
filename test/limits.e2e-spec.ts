import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { createServer, connect, Socket } from 'node:net';
import { ApiKeysService } from '../src/modules/auth/api-keys.service';
import { createTestApp, createWorkspace, dropDatabase, newDatabaseUrl, TestApp } from './support/app';
import { listen, postChunked, postUnfinished } from './support/raw-http';

const MB = 1024 * 1024;

describe('body limits and the bearer check before the body', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp();
    port = await listen(t);
  });
  afterAll(() => t.close());

  it('answers a body over 100 kB on a route that is not a send route 413, without parsing it', async () => {
    const ws = await createWorkspace(t);
    const tooLarge = { error: 'payload_too_large', message: 'Request body is larger than 100 kB' };
    // Not even valid JSON: a parse would answer 400 invalid_json.
    const unparsable = `{"name": "${'x'.repeat(200 * 1024)}`;
    const declared = await ws
      .api('post', '/v1/api-keys')
      .set('Content-Type', 'application/json')
      .send(unparsable)
      .expect(413);
    expect(declared.body).toEqual(tooLarge);
    const chunked = await postChunked(
      port,
      '/v1/contacts',
      { Authorization: `Bearer ${ws.token}` },
      unparsable,
    );
    expect(chunked).toEqual({ status: 413, body: tooLarge });

    const complete = await ws
      .api('post', '/v1/contacts')
      .send({ email: 'big@example.test', first_name: 'x'.repeat(101 * 1024) })
      .expect(413);
    expect(complete.body).toEqual(tooLarge);
    const contacts = await t.db.query('SELECT count(*)::int AS n FROM contacts');
    expect(contacts.rows[0].n).toBe(0);
    await ws.api('post', '/v1/contacts').send({ email: 'small@example.test' }).expect(201);
  });

  it('takes up to 10 MB on the send routes only', async () => {
    const ws = await createWorkspace(t);
    const send = { from: 'nobody@unknown.test', to: ['a@example.test'], subject: 'Hi', text: 'x'.repeat(MB) };
    for (const path of ['/v1/emails', '/V1/Emails/']) {
      const res = await ws.api('post', path).send(send).expect(422);
      expect(res.body.error).toBe('sender_not_verified');
    }
    // The batch route (SPEC §10) takes the same limit, whatever it answers to this body.
    const batch = await ws.api('post', '/v1/emails/batch').send({ emails: [send] });
    expect(batch.status).not.toBe(413);
    await ws.api('patch', '/v1/emails').send(send).expect(413);
    const over = await ws
      .api('post', '/v1/emails')
      .set('Content-Type', 'application/json')
      .send(`{"from": "${'x'.repeat(10 * MB)}`)
      .expect(413);
    expect(over.body).toEqual({ error: 'payload_too_large', message: 'Request body is larger than 10 MB' });
  });

  it('answers a send without a bearer token, or with a malformed one, 401 before reading its 5 MB body', async () => {
    const body = JSON.stringify({ from: 'a@b.test', subject: 'x', text: 'y'.repeat(5 * MB) });
    const res = await t.http
      .post('/v1/emails')
      .set('Content-Type', 'application/json')
      .send(body)
      .expect(401);
    expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) });

    const headerSets: Record<string, string>[] = [
      {},
      { Authorization: 'Basic dXNlcjpwYXNz' },
      { Authorization: 'Bearer' },
      { Authorization: 'Bearer lp_short' },
      { Authorization: `Bearer lp_${'A'.repeat(43)}=` },
    ];
    for (const headers of headerSets) {
      const answer = await postUnfinished(port, '/v1/emails', headers, '{"from": "', 5 * MB);
      expect(answer).toEqual({ status: 401, body: { error: 'unauthorized', message: expect.any(String) } });
    }
  });

  it('answers an unknown or revoked key 401 before reading the body', async () => {
    const ws = await createWorkspace(t);
    const second = await ws.api('post', '/v1/api-keys').send({ name: 'second' }).expect(201);
    await ws.api('delete', `/v1/api-keys/${second.body.data.id}`).expect(204);
    for (const token of [`lp_${'A'.repeat(43)}`, `lp_test_${'B'.repeat(43)}`, second.body.data.token]) {
      const answer = await postUnfinished(
        port,
        '/v1/emails',
        { Authorization: `Bearer ${token}` },
        '{"from": "',
        5 * MB,
      );
      expect(answer).toEqual({ status: 401, body: { error: 'unauthorized', message: expect.any(String) } });
    }
  });

  it('checks the token before the JSON (SPEC §7: 401 first)', async () => {
    const broken = '{"from": ';
    await t.http.post('/v1/emails').set('Content-Type', 'application/json').send(broken).expect(401);
    const ws = await createWorkspace(t);
    const res = await ws.api('post', '/v1/emails').set('Content-Type', 'application/json').send(broken);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_json');
  });

  it('keeps /health, /docs and the operator API (its own token) working', async () => {
    await t.http.get('/health').expect(200);
    await t.http.get('/docs-json').expect(200);
    await t.http.get('/docs').expect(200);
    await t
      .admin('post', '/admin/v1/users')
      .send({ email: `${randomBytes(4).toString('hex')}@owner.test` })
      .expect(201);
    await t.http.post('/admin/v1/users').send({ email: 'x@y.test' }).expect(401);
  });
});

/**
 * A pool closing an idle connection sends PostgreSQL's Terminate message; it
 * is no query, so the proxy does not count it.
 */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

/** A TCP proxy that counts the bytes its clients send on (but a Terminate). */
async function countingProxy(target: { host: string; port: number }) {
  let bytes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', end).on('close', () => {
        sockets.delete(socket);
        end();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (!chunk.equals(TERMINATE)) bytes += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    bytesSent: () => bytes,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}

describe('a token that cannot be an API key costs no database query', () => {
  let t: TestApp;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let directUrl: string;

  beforeAll(async () => {
    directUrl = newDatabaseUrl();
    const target = new URL(directUrl);
    proxy = await countingProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(directUrl);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    // api only: no worker, so nothing else queries the database while the test counts.
    t = await createTestApp({ DATABASE_URL: viaProxy.toString(), APP_ROLE: 'api' });
  });
  afterAll(async () => {
    await t.close();
    await proxy.close();
    await dropDatabase(directUrl);
  });

  const garbage = (i: number): string => {
    const chars = randomBytes(96).toString('base64url');
    switch (i % 5) {
      case 0:
        return `lp_${chars.slice(0, i % 43)}`;
      case 1:
        return `lp_${chars.slice(0, 44 + (i % 50))}`;
      case 2:
        return `lp_test_${chars.slice(0, 42)}`;
      case 3:
        return `lp_${chars.slice(0, 41)}+/`;
      default:
        return `lp_${chars.slice(0, 42)}.`;
    }
  };

  it('answers 1000 malformed lp_ tokens 401 without a byte to PostgreSQL', async () => {
    const before = proxy.bytesSent();
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          t.http.get('/v1/api-keys').set('Authorization', `Bearer ${garbage(batch * 50 + i)}`),
        ),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(50).fill(401));
    }
    expect(proxy.bytesSent()).toBe(before);

    const apiKeys = t.app.get(ApiKeysService);
    for (let i = 0; i < 100; i++) await expect(apiKeys.authenticate(garbage(i))).resolves.toBeNull();
    expect(proxy.bytesSent()).toBe(before);

    // The instrument works: a token of the right shape is looked up.
    await t.http
      .get('/v1/api-keys')
      .set('Authorization', `Bearer lp_test_${'A'.repeat(43)}`)
      .expect(401);
    expect(proxy.bytesSent()).toBeGreaterThan(before);
  });
});

describe('domains and API keys', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('answers a duplicate domain 409 without generating a DKIM key pair', async () => {
    let keyPairs = 0;
    const hook = createHook({
      init: (_id, type) => {
        if (type === 'KEYPAIRGENREQUEST') keyPairs++;
      },
    }).enable();
    try {
      const ws = await createWorkspace(t);
      await ws.api('post', '/v1/domains').send({ name: 'mail.example.test' }).expect(201);
      expect(keyPairs).toBe(1);
      for (const name of ['mail.example.test', ' Mail.Example.TEST ']) {
        const dup = await ws.api('post', '/v1/domains').send({ name }).expect(409);
        expect(dup.body).toEqual({
          error: 'conflict',
          message: expect.stringContaining('mail.example.test'),
        });
      }
      expect(keyPairs).toBe(1);

      const other = await createWorkspace(t);
      await other.api('post', '/v1/domains').send({ name: 'mail.example.test' }).expect(201);
      expect(keyPairs).toBe(2);
    } finally {
      hook.disable();
    }
  });

  it('lets the unique index settle two concurrent creations of one domain', async () => {
    const ws = await createWorkspace(t);
    const answers = await Promise.all(
      [1, 2, 3].map(() => ws.api('post', '/v1/domains').send({ name: 'race.example.test' })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const rows = await t.db.query('SELECT count(*)::int AS n FROM domains WHERE workspace_id = $1', [
      ws.workspaceId,
    ]);
    expect(rows.rows[0].n).toBe(1);
  });

  it('caps a workspace at 100 active keys, also under concurrent creation; a revoked key frees a slot', async () => {
    const ws = await createWorkspace(t);
    const create = () => ws.api('post', '/v1/api-keys').send({ name: 'k' });
    for (let batch = 0; batch < 9; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, create));
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(201));
    }
    const race = await Promise.all(Array.from({ length: 15 }, create));
    expect(race.filter((r) => r.status === 201)).toHaveLength(9);
    const refused = race.filter((r) => r.status !== 201);
    expect(refused.map((r) => r.status)).toEqual(Array(6).fill(409));
    expect(refused[0].body).toEqual({ error: 'conflict', message: expect.stringContaining('100 active') });
    const active = () =>
      t.db
        .query('SELECT count(*)::int AS n FROM api_keys WHERE workspace_id = $1 AND revoked_at IS NULL', [
          ws.workspaceId,
        ])
        .then((r) => r.rows[0].n as number);
    expect(await active()).toBe(100);

    await t
      .admin('post', `/admin/v1/workspaces/${ws.workspaceId}/api-keys`)
      .send({ name: 'operator' })
      .expect(409);
    const revoked = race.find((r) => r.status === 201)!.body.data.id;
    await ws.api('delete', `/v1/api-keys/${revoked}`).expect(204);
    const again = await create().expect(201);
    await t.http.get('/v1/api-keys').set('Authorization', `Bearer ${again.body.data.token}`).expect(200);
    await create().expect(409);
    expect(await active()).toBe(100);

    const other = await createWorkspace(t);
    await other.api('post', '/v1/api-keys').send({ name: 'unaffected' }).expect(201);
  });
});
