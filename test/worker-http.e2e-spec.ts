import { connect } from 'node:net';
import { eventually } from './support/app';
import { AppProcess } from './support/processes';
import { parseMetrics, valueOf } from './support/prometheus';
import { startWorkerStack, WorkerStack } from './support/worker-stack';

const METRICS_TOKEN = 'worker-metrics-token-0123';

describe('an APP_ROLE=worker process on PORT', () => {
  let stack: WorkerStack;
  let worker: AppProcess;

  beforeAll(async () => {
    stack = await startWorkerStack();
    worker = await stack.startWorker({ METRICS_TOKEN });
  });
  afterAll(() => stack.close());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${worker.url}${path}`, { headers, signal: AbortSignal.timeout(5000) });
  const scrape = async () => {
    const res = await get('/metrics', { Authorization: `Bearer ${METRICS_TOKEN}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseMetrics(await res.text());
  };

  it('answers /health with the state of PostgreSQL and Redis', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('serves /metrics with METRICS_TOKEN only, and counts the deliveries it makes', async () => {
    expect((await get('/metrics')).status).toBe(401);
    const wrong = await get('/metrics', { Authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'unauthorized' });

    await stack.send(['a@example.test', 'b@example.test'], 'from the worker');
    await eventually(async () => (await stack.statuses()).sent === 2, { what: 'both messages sent' });
    const samples = await eventually(async () => {
      const s = await scrape();
      return valueOf(s, 'leadpush_message_events_total', { type: 'sent' }) === 2 ? s : null;
    });
    expect(valueOf(samples, 'leadpush_message_events_total', { type: 'sending' })).toBe(2);
    expect(valueOf(samples, 'leadpush_delivery_duration_seconds_count', { outcome: 'sent' })).toBe(2);
    expect(samples.some((s) => s.name === 'leadpush_queue_jobs' && s.labels.queue === 'delivery')).toBe(true);
    expect(samples.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
  });

  it('serves no API route, no docs and no queue board: 404 in the error envelope', async () => {
    const requests: [string, string][] = [
      ['GET', '/v1/messages'],
      ['POST', '/v1/emails'],
      ['GET', '/admin/v1/users'],
      ['GET', '/docs'],
      ['GET', '/docs-json'],
      ['GET', '/admin/queues'],
      ['POST', '/health'],
      ['GET', '/'],
    ];
    for (const [method, path] of requests) {
      const res = await fetch(`${worker.url}${path}`, { method, signal: AbortSignal.timeout(5000) });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    }
  });

  it('answers odd request lines and headers in the error envelope, never a 500', async () => {
    const raw = (target: string, authorization?: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(worker.port, '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
        const auth = authorization === undefined ? '' : `Authorization: ${authorization}\r\n`;
        socket.end(
          Buffer.from(`GET ${target} HTTP/1.1\r\nHost: w\r\n${auth}Connection: close\r\n\r\n`, 'latin1'),
        );
      });
    const cases: [string, string | undefined, number][] = [
      ['/metrics?x=%ZZ', 'Bearer \u00ff\u00fe', 401],
      ['/metrics', 'Basic Og==', 401],
      ['/metrics', `Bearer ${METRICS_TOKEN} extra`, 401],
      ['//health', undefined, 404],
      ['/health/../metrics', undefined, 404],
      ['/%00%E0%A4%A', undefined, 404],
      ['*', undefined, 404],
    ];
    for (const [target, authorization, status] of cases) {
      const answer = await raw(target, authorization);
      expect([target, answer.slice(0, 12)]).toEqual([target, `HTTP/1.1 ${status}`]);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toHaveProperty('error');
    }
  });
});
