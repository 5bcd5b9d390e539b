import { CLAIM, SETTLE } from '../src/modules/webhooks/webhook-attempt-statements';
import { createTestApp, TestApp } from './support/app';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** How the plan reads `table`: the name of each of its indexes scanned, and "Seq Scan" for each full scan. */
function reads(node: PlanNode, table: string): string[] {
  const index = node['Index Name'];
  const own = index?.startsWith(`${table}_`)
    ? [index]
    : node['Relation Name'] === table && node['Node Type'] === 'Seq Scan'
      ? ['Seq Scan']
      : [];
  return [...own, ...(node.Plans ?? []).flatMap((child) => reads(child, table))];
}

/** A parameter as an SQL literal (EXECUTE takes no bind parameters): arrays in PostgreSQL's array syntax. */
function literal(t: TestApp, value: unknown): string {
  if (value === null) return 'NULL';
  if (Array.isArray(value)) {
    const element = (v: unknown) => (v === null ? 'NULL' : `"${text(v).replace(/["\\]/g, '\\$&')}"`);
    return t.db.escapeLiteral(`{${value.map(element).join(',')}}`);
  }
  return t.db.escapeLiteral(text(value));
}

function text(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * The generic plan PostgreSQL caches for a statement (the pool's connections
 * keep it for their lifetime, or until the table is analyzed), made here on
 * the empty tables of a new install, as at the start of a burst.
 */
async function genericPlan(t: TestApp, statement: string, params: unknown[]): Promise<PlanNode> {
  await t.db.query(`SET plan_cache_mode = force_generic_plan`);
  await t.db.query(`PREPARE planned AS ${statement}`);
  try {
    const args = params.map((param) => literal(t, param)).join(', ');
    const { rows } = await t.db.query(`EXPLAIN (FORMAT JSON) EXECUTE planned(${args})`);
    return rows[0]['QUERY PLAN'][0].Plan as PlanNode;
  } finally {
    await t.db.query(`DEALLOCATE planned`);
    await t.db.query(`RESET plan_cache_mode`);
  }
}

describe('webhook attempt statements: generic plans', () => {
  let t: TestApp;
  const ids = ['0b6f1f0e-58a4-4c1e-9c54-2d3f1e7a9b01', '0b6f1f0e-58a4-4c1e-9c54-2d3f1e7a9b02'];

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  // The leased and due indexes hold only 'sending' and 'pending' rows, plus, until a vacuum, an
  // entry for every claim and settle since: a statement that looked its deliveries up there
  // instead of by id read more of them the longer a burst went on (3.5 ms a settle of 8).
  it.each([
    ['the claim', CLAIM, [ids, [30000, 30000], 200]],
    [
      'the settle',
      SETTLE,
      [
        ids,
        [1, 1],
        ['succeeded', 'pending'],
        ['success', 'failure'],
        [204, 500],
        [null, 'HTTP 500'],
        [new Date(), new Date()],
        [null, new Date()],
      ],
    ],
  ])('%s finds its deliveries by primary key', async (_name, statement, params) => {
    const plan = await genericPlan(t, statement as string, params as unknown[]);
    const scans = reads(plan, 'webhook_deliveries');
    expect(scans.length).toBeGreaterThan(0);
    expect(scans.filter((scan) => scan !== 'webhook_deliveries_pkey')).toEqual([]);
  });
});
