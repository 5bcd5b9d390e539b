import { Sql } from '../src/database/sql';
import { SuppressionsService } from '../src/modules/suppressions/suppressions.service';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';

describe('suppressions under concurrent writes', () => {
  let t: TestApp;
  let ws: Workspace;

  beforeAll(async () => {
    t = await createTestApp();
    ws = await createWorkspace(t);
  });
  afterAll(() => t.close());

  it('POST racing DELETE of the same address answers 200/201 and 204/404, never a 500', async () => {
    const statuses = new Set<number>();
    for (let round = 0; round < 40; round++) {
      const email = `race${round % 4}@example.test`;
      const answers = await Promise.all([
        ws.api('post', '/v1/suppressions').send({ email }),
        ws.api('delete', `/v1/suppressions/${email}`),
        ws.api('post', '/v1/suppressions').send({ email }),
        ws.api('delete', `/v1/suppressions/${email}`),
      ]);
      for (const res of answers) {
        statuses.add(res.status);
        if (res.status === 200 || res.status === 201) {
          expect(res.body.data).toMatchObject({ email, reason: 'manual' });
        }
      }
    }
    expect([...statuses].every((status) => [200, 201, 204, 404].includes(status))).toBe(true);
    expect(statuses).toContain(201);
  });

  it('an address already suppressed keeps its entry and answers 200', async () => {
    const first = await ws.api('post', '/v1/suppressions').send({ email: 'kept@example.test' }).expect(201);
    const again = await ws.api('post', '/v1/suppressions').send({ email: 'KEPT@example.test' }).expect(200);
    expect(again.body.data).toEqual(first.body.data);
  });

  it('answers concurrent checks with one statement, each for its own workspace', async () => {
    const other = await createWorkspace(t);
    await ws.api('post', '/v1/suppressions').send({ email: 'listed@example.test' }).expect(201);
    await other.api('post', '/v1/suppressions').send({ email: 'elsewhere@example.test' }).expect(201);
    const suppressions = t.app.get(SuppressionsService);
    const statements = jest.spyOn(t.app.get(Sql), 'rows');
    try {
      const answers = await Promise.all([
        suppressions.isSuppressed(ws.workspaceId, 'listed@example.test'),
        suppressions.isSuppressed(other.workspaceId, 'listed@example.test'),
        suppressions.isSuppressed(ws.workspaceId, 'elsewhere@example.test'),
        suppressions.isSuppressed(other.workspaceId, 'elsewhere@example.test'),
        suppressions.isSuppressed(ws.workspaceId, 'unlisted@example.test'),
      ]);
      expect(answers).toEqual([true, false, false, true, false]);
      expect(statements).toHaveBeenCalledTimes(1);
    } finally {
      statements.mockRestore();
    }
  });
});
