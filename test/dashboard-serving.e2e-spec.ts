import { Test } from '@nestjs/testing';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DashboardModule } from '../src/modules/dashboard/dashboard.module';
import { HttpAdapter } from '../src/http-adapter';
import { createTestApp, createWorkspace, type TestApp } from './support/app';

const ASSETS = join(__dirname, '..', 'dist', 'web', 'assets');

/**
 * How the app serves the built dashboard (dist/web, built by the jest global
 * setup as by `npm run build`), and that the API around it is unchanged.
 */
describe('Dashboard serving', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('serves index.html at /dashboard, revalidated on every load and locked to its own origin', async () => {
    const redirect = await t.http.get('/dashboard').expect(301);
    expect(redirect.headers.location).toBe('/dashboard/');
    for (const path of ['/dashboard/', '/dashboard/index.html']) {
      const res = await t.http.get(path).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.text).toContain('<div id="root"></div>');
    }
  });

  it('answers client-side routes below /dashboard with index.html', async () => {
    const index = await t.http.get('/dashboard/').expect(200);
    for (const path of [
      '/dashboard/messages/6f0c1e4e-0000-4000-8000-000000000000',
      '/dashboard/domains?x=1',
    ]) {
      const res = await t.http.get(path).expect(200);
      expect(res.text).toBe(index.text);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves every hashed asset index.html names, cached for a year as immutable', async () => {
    const index = await t.http.get('/dashboard/').expect(200);
    const referenced = [...index.text.matchAll(/\/dashboard\/assets\/[^"]+/g)].map((m) => m[0]);
    expect(referenced.length).toBeGreaterThanOrEqual(2);
    expect(referenced.map((path) => path.split('/').pop()).sort()).toEqual(readdirSync(ASSETS).sort());
    for (const path of referenced) {
      const res = await t.http.get(path).expect(200);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-type']).toMatch(/javascript|css/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers a missing asset, and any write to /dashboard, with the JSON 404 of the API', async () => {
    for (const res of [
      await t.http.get('/dashboard/assets/index-missing.js'),
      await t.http.post('/dashboard/messages').send({}),
    ]) {
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ error: 'not_found' });
    }
  });

  it('leaves the API as it was: JSON 404 elsewhere, 401 before the body on /v1, the API itself', async () => {
    const unknown = await t.http.get('/dashboardx').expect(404);
    expect(unknown.body).toMatchObject({ error: 'not_found' });
    await t.http.get('/').expect(404);
    const unauthorized = await t.http
      .post('/v1/emails')
      .set('Content-Type', 'application/json')
      .send('{not json')
      .expect(401);
    expect(unauthorized.body.error).toBe('unauthorized');
    const ws = await createWorkspace(t);
    const invalid = await ws
      .api('post', '/v1/emails')
      .set('Content-Type', 'application/json')
      .send('{not json');
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toBe('invalid_json');
    await ws.api('get', '/v1/messages').expect(200);
  });

  it('says so at start and serves nothing at /dashboard when there is no dashboard build', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'leadpush-no-dashboard-'));
    const warnings: string[] = [];
    const logger = { log() {}, error() {}, warn: (message: string) => warnings.push(message) };
    const moduleRef = await Test.createTestingModule({ imports: [DashboardModule.forRoot(empty)] }).compile();
    const app = moduleRef.createNestApplication(new HttpAdapter(), { logger });
    try {
      await app.init();
      expect(warnings).toEqual([
        `No dashboard build in ${empty} (run npm run build): /dashboard answers 404`,
      ]);
      await request(app.getHttpServer()).get('/dashboard/').expect(404);
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('is not served by the worker role', async () => {
    const worker = await createTestApp({ APP_ROLE: 'worker' });
    try {
      const res = await worker.http.get('/dashboard/').expect(404);
      expect(res.body).toMatchObject({ error: 'not_found' });
    } finally {
      await worker.close();
    }
  });
});
