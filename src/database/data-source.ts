import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { join } from 'node:path';
import { migrations } from './migrations';

/** Longest a statement of the app may run, so a stuck one cannot hold a pooled connection for ever. */
export const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The one DataSource definition, shared by the app and the TypeORM CLI
 * (`npm run migration:run`). The schema only ever changes through migrations,
 * listed explicitly in migrations/index.ts. `statementTimeoutMs` becomes the
 * connections' `statement_timeout` (0: none, as for the CLI's migrations).
 */
export function dataSourceOptions(url: string, statementTimeoutMs = 0): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    extra: { max: 20, connectionTimeoutMillis: 5000, statement_timeout: statementTimeoutMs },
  };
}

/**
 * For the TypeORM CLI (`npm run migration:run`, `migration:revert`,
 * `migration:generate`), on the built files. Entities declare the tables'
 * foreign keys and name their hand-written indexes (synchronize: false, since
 * TypeORM cannot express descending or partial ones), so generate proposes
 * only real entity changes. Tables without an entity (messages, events,
 * suppressions, idempotency keys) are left alone by it.
 */
export default new DataSource({
  ...dataSourceOptions(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/leadpush'),
  entities: [join(__dirname, '..', 'modules', '**', '*.entity.js')],
});
