import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ClientBase, Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** Statements on the pool, on a transaction's client, or on any other connection. */
export class SqlRunner {
  constructor(private readonly db: Pool | ClientBase) {}

  /**
   * `name` makes it a prepared statement: parsed and planned once per
   * connection, for its tables as they are then (LifecycleWrites says when
   * that plan goes stale).
   */
  async rows<T extends QueryResultRow>(text: string, params: unknown[] = [], name?: string): Promise<T[]> {
    return (await this.db.query<T>({ text, values: params, name })).rows;
  }

  async one<T extends QueryResultRow>(
    text: string,
    params: unknown[] = [],
    name?: string,
  ): Promise<T | null> {
    return (await this.rows<T>(text, params, name))[0] ?? null;
  }

  /** Runs a statement and answers how many rows it touched. */
  async exec(text: string, params: unknown[] = [], name?: string): Promise<number> {
    return (await this.db.query({ text, values: params, name })).rowCount ?? 0;
  }

  /**
   * Runs `effect` once what was written through this runner is committed:
   * at once outside a transaction (each statement commits on its own), after
   * COMMIT in one, and never if the transaction rolls back. For side effects
   * that must not count what did not happen, such as metrics; `effect` must
   * not throw.
   */
  afterCommit(effect: () => void): void {
    effect();
  }
}

/** A transaction's statements: its after-commit effects wait for its COMMIT. */
class TransactionRunner extends SqlRunner {
  private readonly effects: (() => void)[] = [];

  override afterCommit(effect: () => void): void {
    this.effects.push(effect);
  }

  committed(): void {
    for (const effect of this.effects) effect();
  }
}

/**
 * Plain parameterized SQL on TypeORM's own pg pool, for hot paths where one
 * hand-written statement (often a CTE doing several writes at once) beats
 * several ORM round trips. Always returns rows, whatever the statement.
 */
@Injectable()
export class Sql extends SqlRunner {
  private readonly pool: Pool;

  constructor(@InjectDataSource() dataSource: DataSource) {
    const pool = (dataSource.driver as PostgresDriver).master as Pool;
    super(pool);
    this.pool = pool;
  }

  /**
   * Runs `work` in one transaction on one connection: committed when it
   * resolves (then its `afterCommit` effects run), rolled back when it
   * throws. A connection that cannot even roll back (it was lost) is closed
   * rather than reused.
   */
  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A connection lost between two statements fails the next one; it must not also crash the process.
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const tx = new TransactionRunner(client);
      const result = await work(tx);
      await client.query('COMMIT');
      tx.committed();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }
}
