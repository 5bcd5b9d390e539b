import { Client } from 'pg';
import type { TestApp } from './app';

export interface TableLock {
  /** How many other sessions wait for the lock (e.g. the app's inserts). */
  waiting(): Promise<number>;
  release(): Promise<void>;
}

/**
 * Holds an EXCLUSIVE lock on `table` of the app's database from a connection
 * of the test's own, so the app's writes to it wait (reads go on): requests
 * pile up behind them. release() commits and closes; it may be called twice.
 */
export async function lockTable(t: TestApp, table: string): Promise<TableLock> {
  const locker = new Client({ connectionString: t.config.databaseUrl });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
  let released = false;
  return {
    async waiting() {
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE relation = $1::regclass AND NOT granted`,
        [table],
      );
      return rows[0].n as number;
    },
    async release() {
      if (released) return;
      released = true;
      await locker.query('COMMIT');
      await locker.end();
    },
  };
}
