import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource, MigrationExecutor } from 'typeorm';
import { SqlState } from '@app/common';

/** Arbitrary constant naming Leadpush's migration lock among PostgreSQL advisory locks. */
const MIGRATION_LOCK_ID = 4_815_162_342;

/** Creates the database named in `url` when it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  try {
    await client.connect();
  } catch {
    return; // no access to the maintenance database: let the real connection report the problem
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client
        .query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`)
        .catch((error: { code?: string }) => {
          if (error.code !== SqlState.DUPLICATE_DATABASE) throw error; // created by a concurrent start
        });
      new Logger('Database').log(`Created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so several
 * instances starting together apply each migration exactly once. They run on
 * the lock's connection without the app's statement_timeout: waiting for the
 * lock and a migration itself may take longer.
 */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SET statement_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    const applied = await executor.executePendingMigrations();
    if (applied.length > 0) {
      new Logger('Database').log(`Applied migrations: ${applied.map((m) => m.name).join(', ')}`);
    }
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await runner.query('RESET statement_timeout').catch(() => undefined);
    await runner.release();
  }
}
