import { Sql } from '../src/database/sql';
import {
  Claim,
  ClaimedDelivery,
  Settlement,
  WebhookDeliveriesRepository,
} from '../src/modules/webhooks/webhook-deliveries.repository';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';

const LEASE_MS = 60_000;

interface DeliveryRow {
  status: string;
  attempts: number;
  lease_until: Date | null;
}

/**
 * The attempts in flight claim together and settle together (SPEC §12 rules
 * kept per row): N concurrent calls cost one statement, each answered for
 * itself. An api-role app, so no worker of its own takes the deliveries.
 */
describe('webhook claims and settlements in batches', () => {
  let t: TestApp;
  let ws: Workspace;
  let deliveries: WebhookDeliveriesRepository;
  let nextEventId = 1;

  beforeAll(async () => {
    t = await createTestApp({ APP_ROLE: 'api', WEBHOOK_ALLOW_PRIVATE: 'true' });
    ws = await createWorkspace(t);
    deliveries = t.app.get(WebhookDeliveriesRepository);
  });
  afterAll(async () => {
    await t.close();
  });

  async function endpoint(): Promise<string> {
    const res = await ws.api('post', '/v1/webhooks').send({ url: 'http://127.0.0.1:9/hook' }).expect(201);
    return res.body.data.id;
  }

  /** A delivery row as given (pending and due unless said otherwise); answers its id. */
  async function delivery(
    endpointId: string,
    state: { status?: string; attempts?: number; dueInMs?: number; leaseInMs?: number } = {},
  ): Promise<string> {
    const { rows } = await t.db.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload, status, attempts, next_attempt_at, lease_until)
       VALUES ($1, $2, 'message.sent', $3, $4, $5, now() + $6 * interval '1 millisecond',
               now() + $7 * interval '1 millisecond')
       RETURNING id`,
      [
        endpointId,
        nextEventId,
        `{"event":${nextEventId++}}`,
        state.status ?? 'pending',
        state.attempts ?? 0,
        state.dueInMs ?? -1000,
        state.leaseInMs ?? null,
      ],
    );
    return rows[0].id;
  }

  async function row(id: string): Promise<DeliveryRow> {
    const { rows } = await t.db.query(
      'SELECT status, attempts, lease_until FROM webhook_deliveries WHERE id = $1',
      [id],
    );
    return rows[0];
  }

  async function log(id: string) {
    const { rows } = await t.db.query(
      `SELECT attempt, outcome, status_code, error FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt`,
      [id],
    );
    return rows;
  }

  async function enabled(endpointId: string): Promise<boolean> {
    const { rows } = await t.db.query('SELECT enabled FROM webhook_endpoints WHERE id = $1', [endpointId]);
    return rows[0].enabled;
  }

  /** Runs `work` and answers its result with the statements it sent through Sql (observed, not replaced). */
  async function counted<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
    const rows = jest.spyOn(t.app.get(Sql), 'rows');
    try {
      const result = await work();
      return { result, statements: rows.mock.calls.length };
    } finally {
      rows.mockRestore();
    }
  }

  const settlement = (outcome: Settlement['outcome'], statusCode: number | null): Settlement => ({
    outcome,
    statusCode,
    error: outcome === 'success' ? null : `HTTP ${statusCode}`,
    at: new Date(),
    nextAttemptAt: outcome === 'failure' ? new Date(Date.now() + 60_000) : null,
  });

  it('claims and settles 20 attempts in flight with one statement each, each caller getting its own', async () => {
    const hook = await endpoint();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await delivery(hook));

    const claims = await counted(() => Promise.all(ids.map((id) => deliveries.claim(id, LEASE_MS))));
    expect(claims.statements).toBe(1);
    const { rows: payloads } = await t.db.query(
      'SELECT id, event_id::text, payload FROM webhook_deliveries WHERE id = ANY($1)',
      [ids],
    );
    claims.result.forEach((claim, i) => {
      const stored = payloads.find((p) => p.id === ids[i]);
      expect(claim).toEqual({
        interrupted: false,
        delivery: {
          id: ids[i],
          eventId: stored.event_id,
          attempt: 1,
          payload: stored.payload,
          url: 'http://127.0.0.1:9/hook',
          sealedSecret: expect.any(String),
        },
      });
    });

    const settled = await counted(() =>
      Promise.all(
        claims.result.map((claim) => deliveries.settle(claim.delivery!, settlement('success', 200))),
      ),
    );
    expect(settled.statements).toBe(1);
    expect(settled.result).toEqual(ids.map(() => true));
    for (const id of ids) {
      expect(await row(id)).toMatchObject({ status: 'succeeded', attempts: 1, lease_until: null });
      expect(await log(id)).toEqual([{ attempt: 1, outcome: 'success', status_code: 200, error: null }]);
    }
  });

  it('answers a mixed batch of claims each by its own rule, in one statement', async () => {
    const hook = await endpoint();
    const off = await endpoint();
    const due = await delivery(hook);
    const notDue = await delivery(hook, { dueInMs: 60_000 });
    const early = await delivery(hook, { dueInMs: 100 });
    const held = await delivery(hook, { status: 'sending', attempts: 1, leaseInMs: 60_000 });
    const expired = await delivery(hook, { status: 'sending', attempts: 2, leaseInMs: -1000 });
    const done = await delivery(hook, { status: 'succeeded', attempts: 1 });
    const disabled = await delivery(off, { status: 'pending', attempts: 1 });
    await ws.api('patch', `/v1/webhooks/${off}`).send({ enabled: false }).expect(200);
    const unknown = '00000000-0000-4000-8000-000000000000';

    const { result, statements } = await counted(() =>
      Promise.all(
        [due, notDue, early, held, expired, done, disabled, unknown, due].map((id) =>
          deliveries.claim(id, LEASE_MS),
        ),
      ),
    );
    expect(statements).toBe(1);
    const summary = (claim: Claim) => [
      claim.delivery && [claim.delivery.id, claim.delivery.attempt],
      claim.interrupted,
    ];
    expect(result.map(summary)).toEqual([
      [[due, 1], false],
      [null, false],
      [[early, 1], false],
      [null, false],
      [[expired, 3], true],
      [null, false],
      [null, false],
      [null, false],
      // The same delivery twice in one batch: the second finds it taken, as it would a statement later.
      [null, false],
    ]);

    expect(await row(due)).toMatchObject({ status: 'sending', attempts: 1 });
    expect(await row(notDue)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await row(held)).toMatchObject({ status: 'sending', attempts: 1 });
    expect(await row(expired)).toMatchObject({ status: 'sending', attempts: 3 });
    expect(await row(done)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await row(disabled)).toMatchObject({ status: 'disabled', attempts: 1, lease_until: null });
    expect(await log(expired)).toEqual([
      {
        attempt: 2,
        outcome: 'failure',
        status_code: null,
        error: 'interrupted: the worker stopped during the attempt',
      },
    ]);
    expect(await log(held)).toEqual([]);
    expect(await log(disabled)).toEqual([]);
    const leased = (await row(due)).lease_until!.getTime() - Date.now();
    expect(leased).toBeGreaterThan(LEASE_MS - 10_000);
    expect(leased).toBeLessThanOrEqual(LEASE_MS);
  });

  it('settles a mixed batch in one statement: a stale attempt is refused alone, a 410 disables its endpoint', async () => {
    const hook = await endpoint();
    const gone = await endpoint();
    const ids = [await delivery(hook), await delivery(hook), await delivery(hook), await delivery(gone)];
    const claims = await Promise.all(ids.map((id) => deliveries.claim(id, LEASE_MS)));
    const [ok, retried, stale, disabled] = claims.map((claim) => claim.delivery!);
    const staleAttempt: ClaimedDelivery = { ...stale, attempt: stale.attempt + 1 };
    const failure = settlement('failure', 500);

    const { result, statements } = await counted(() =>
      Promise.all([
        deliveries.settle(ok, settlement('success', 204)),
        deliveries.settle(retried, failure),
        deliveries.settle(staleAttempt, settlement('success', 200)),
        deliveries.settle(disabled, settlement('disabled', 410)),
        deliveries.settle(ok, settlement('failure', 503)),
      ]),
    );
    expect(statements).toBe(1);
    // The last settles an attempt already settled in the same batch: refused, as it would be a statement later.
    expect(result).toEqual([true, true, false, true, false]);

    expect(await row(ok.id)).toMatchObject({ status: 'succeeded', lease_until: null });
    expect(await log(ok.id)).toEqual([{ attempt: 1, outcome: 'success', status_code: 204, error: null }]);
    const { rows } = await t.db.query(
      'SELECT status, next_attempt_at FROM webhook_deliveries WHERE id = $1',
      [retried.id],
    );
    expect(rows[0]).toEqual({ status: 'pending', next_attempt_at: failure.nextAttemptAt });
    expect(await log(retried.id)).toEqual([
      { attempt: 1, outcome: 'failure', status_code: 500, error: 'HTTP 500' },
    ]);
    expect(await row(stale.id)).toMatchObject({ status: 'sending', attempts: 1 });
    expect(await log(stale.id)).toEqual([]);
    expect(await row(disabled.id)).toMatchObject({ status: 'disabled', lease_until: null });
    expect(await log(disabled.id)).toEqual([
      { attempt: 1, outcome: 'disabled', status_code: 410, error: 'HTTP 410' },
    ]);
    expect(await enabled(gone)).toBe(false);
    expect(await enabled(hook)).toBe(true);
  });

  it('fails only the attempt whose values the database refuses, and answers the rest of its batch', async () => {
    const hook = await endpoint();
    const ids = [await delivery(hook), await delivery(hook), await delivery(hook)];
    const claims = await Promise.all(
      [ids[0], 'not-a-uuid', ids[1], ids[2]].map((id) =>
        deliveries.claim(id, LEASE_MS).catch((error: { code?: string }) => error.code),
      ),
    );
    expect(claims.map((claim) => (typeof claim === 'string' ? claim : claim?.delivery?.id))).toEqual([
      ids[0],
      '22P02',
      ids[1],
      ids[2],
    ]);

    const claimed = [claims[0], claims[2], claims[3]].map((claim) => (claim as Claim).delivery!);
    const tooLong = { ...settlement('failure', 500), error: 'x'.repeat(201) };
    const settled = await Promise.all(
      claimed.map((one, i) =>
        deliveries
          .settle(one, i === 1 ? tooLong : settlement('success', 200))
          .catch((error: { code?: string }) => error.code),
      ),
    );
    expect(settled).toEqual([true, '22001', true]);
    expect((await row(ids[1])).status).toBe('sending');
    expect(await log(ids[1])).toEqual([]);
    expect((await row(ids[2])).status).toBe('succeeded');
  });
});
