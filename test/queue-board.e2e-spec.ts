import { ADMIN_TOKEN, createTestApp, TestApp } from './support/app';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('Bull Board at /admin/queues', () => {
  describe('with ADMIN_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t.close());

    it('asks for Basic credentials: 401 with a challenge, without credentials or with a wrong password', async () => {
      for (const header of [
        undefined,
        basic('admin', 'wrong'),
        basic('admin', `${ADMIN_TOKEN}x`),
        `Bearer ${ADMIN_TOKEN}`,
      ]) {
        const req = t.http.get('/admin/queues');
        const res = await (header ? req.set('Authorization', header) : req).expect(401);
        expect(res.headers['www-authenticate']).toMatch(/^Basic realm="Leadpush queues"/);
        expect(res.body).toMatchObject({ error: 'unauthorized' });
      }
      await t.http.get('/admin/queues/api/queues').expect(401);
    });

    it('shows the board with ADMIN_TOKEN as the password of any user, its assets served from here', async () => {
      const page = await t.http
        .get('/admin/queues')
        .set('Authorization', basic('anyone', ADMIN_TOKEN))
        .expect(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['content-security-policy']).toContain("default-src 'self'");
      const scripts = [...page.text.matchAll(/<script[^>]* src="([^"]+)"/g)].map((m) => m[1]);
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.every((src) => src.startsWith('static/'))).toBe(true);
      expect(page.text).toContain('<base href="/admin/queues/"');
      const asset = await t.http
        .get(`/admin/queues/${scripts[0]}`)
        .set('Authorization', basic('ops', ADMIN_TOKEN))
        .expect(200);
      expect(asset.headers['content-type']).toMatch(/javascript/);
    });

    it('lists every queue of the app, also those only a worker consumes', async () => {
      const res = await t.http
        .get('/admin/queues/api/queues')
        .set('Authorization', basic('', ADMIN_TOKEN))
        .expect(200);
      expect(res.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([
        'delivery',
        'inbound',
        'webhooks',
      ]);
    });
  });

  describe('without ADMIN_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ ADMIN_TOKEN: '' });
    });
    afterAll(() => t.close());

    it('does not exist: 404, with credentials or without', async () => {
      const res = await t.http.get('/admin/queues').expect(404);
      expect(res.body).toMatchObject({ error: 'not_found' });
      await t.http.get('/admin/queues').set('Authorization', basic('admin', ADMIN_TOKEN)).expect(404);
      await t.http.get('/admin/queues/api/queues').expect(404);
    });
  });
});
