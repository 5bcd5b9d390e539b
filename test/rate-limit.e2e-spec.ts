import { createTestApp, createWorkspace, TestApp } from './support/app';
import { listen, postUnfinished } from './support/raw-http';

describe('rate limit per API key and per workspace, across instances', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp({ RATE_LIMIT_RPS: '5', RATE_LIMIT_WORKSPACE_RPS: '8' });
    b = await createTestApp({
      RATE_LIMIT_RPS: '5',
      RATE_LIMIT_WORKSPACE_RPS: '8',
      DATABASE_URL: a.config.databaseUrl,
      QUEUE_PREFIX: a.config.queuePrefix,
    });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  /** Waits for the start of a new second, so a burst falls into one one-second window. */
  const startOfSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));

  /**
   * Fires `burst` at the start of a second; tries again when the burst ran over
   * into the next second (a loaded machine), so its answers come from one window.
   */
  async function inOneWindow<T>(burst: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await startOfSecond();
      const started = Date.now();
      const result = await burst();
      if (Math.floor(Date.now() / 1000) === Math.floor(started / 1000) || attempt === 5) return result;
    }
  }

  it('lets RATE_LIMIT_RPS requests per second through in all, then answers 429 with Retry-After', async () => {
    const ws = await createWorkspace(a);
    const responses = await inOneWindow(() =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).http.get('/v1/api-keys').set('Authorization', `Bearer ${ws.token}`),
        ),
      ),
    );
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok.length + limited.length).toBe(20);
    expect(ok).toHaveLength(5);
    expect(limited[0].body).toEqual({ error: 'rate_limited', message: expect.any(String) });
    expect(Number(limited[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    await a.http.get('/v1/api-keys').set('Authorization', `Bearer ${ws.token}`).expect(200);
  });

  it('counts each key separately', async () => {
    const one = await createWorkspace(a);
    const two = await createWorkspace(a);
    const [ones, twos] = await inOneWindow(() =>
      Promise.all([
        Promise.all(
          Array.from({ length: 8 }, () =>
            a.http.get('/v1/api-keys').set('Authorization', `Bearer ${one.token}`),
          ),
        ),
        Promise.all(
          Array.from({ length: 5 }, () =>
            b.http.get('/v1/api-keys').set('Authorization', `Bearer ${two.token}`),
          ),
        ),
      ]),
    );
    expect(ones.filter((r) => r.status === 200)).toHaveLength(5);
    expect(twos.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('caps all keys of one workspace together at RATE_LIMIT_WORKSPACE_RPS', async () => {
    const ws = await createWorkspace(a);
    const second = await ws.api('post', '/v1/api-keys').send({ name: 'second' }).expect(201);
    const tokens = [ws.token, second.body.data.token as string];
    const other = await createWorkspace(a);
    const [perKey, others] = await inOneWindow(() =>
      Promise.all([
        Promise.all(
          tokens.map((token, k) =>
            Promise.all(
              Array.from({ length: 6 }, (_, i) =>
                ((i + k) % 2 ? a : b).http.get('/v1/api-keys').set('Authorization', `Bearer ${token}`),
              ),
            ),
          ),
        ),
        Promise.all(
          Array.from({ length: 5 }, () =>
            a.http.get('/v1/api-keys').set('Authorization', `Bearer ${other.token}`),
          ),
        ),
      ]),
    );
    const allowed = perKey.map((responses) => responses.filter((r) => r.status === 200).length);
    expect(allowed.every((n) => n <= 5)).toBe(true);
    expect(allowed[0] + allowed[1]).toBe(8);
    expect(perKey.flat().filter((r) => r.status === 429)).toHaveLength(4);
    expect(others.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('answers 429 before reading the body', async () => {
    const ws = await createWorkspace(a);
    const port = await listen(a);
    const answer = await inOneWindow(async () => {
      await Promise.all(Array.from({ length: 5 }, () => ws.api('get', '/v1/api-keys')));
      const headers = { Authorization: `Bearer ${ws.token}` };
      return postUnfinished(port, '/v1/emails', headers, '{"from": "', 5 * 1024 * 1024);
    });
    expect(answer).toEqual({ status: 429, body: { error: 'rate_limited', message: expect.any(String) } });
  });
});
