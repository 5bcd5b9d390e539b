import { Client } from 'pg';
import type { TestApp } from './app';

export interface TableLock {
  /** How many other sessions wait for the lock (e.g. the app's inserts). */
  waiting(): Promise<number>;
  release(): Promise<void>;
}

/**
 * Holds a lock on `table` of the app's database from a connection of the
 * test's own, so the app's writes to it wait: EXCLUSIVE (the default) lets
 * only reads go on, SHARE also lets rows be locked (SELECT … FOR UPDATE).
 * Requests pile up behind it. release() commits and closes; it may be called
 * twice.
 */
export async function lockTable(
  t: TestApp,
  table: string,
  mode: 'EXCLUSIVE' | 'SHARE' = 'EXCLUSIVE',
): Promise<TableLock> {
  const locker = new Client({ connectionString: t.config.databaseUrl });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query(`LOCK TABLE ${table} IN ${mode} MODE`);
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
