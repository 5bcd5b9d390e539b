import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** What runs statements: the pool (each statement on its own) or one transaction. */
export interface Queryable {
  rows<T extends QueryResultRow>(text: string, params?: unknown[], name?: string): Promise<T[]>;
  one<T extends QueryResultRow>(text: string, params?: unknown[], name?: string): Promise<T | null>;
}

/**
 * Plain parameterized SQL on TypeORM's own pg pool, for hot paths where one
 * hand-written statement (often a CTE doing several writes at once) beats
 * several ORM round trips. Always returns rows, whatever the statement.
 */
@Injectable()
export class Sql implements Queryable {
  private readonly pool: Pool;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
  }

  /** `name` makes it a prepared statement: parsed and planned once per connection. */
  async rows<T extends QueryResultRow>(text: string, params: unknown[] = [], name?: string): Promise<T[]> {
    return (await this.pool.query<T>({ text, values: params, name })).rows;
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
    return (await this.pool.query({ text, values: params, name })).rowCount ?? 0;
  }

  /**
   * Runs `work` in one transaction on one connection (for what must share a
   * session, such as a transaction-scoped advisory lock): committed when it
   * resolves, rolled back when it throws.
   */
  async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out connection that drops emits 'error' besides failing its query: the query reports it.
    const ignore = () => undefined;
    client.on('error', ignore);
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(new Transaction(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  }
}

/** The statements of one transaction (see Sql.transaction). */
export class Transaction implements Queryable {
  constructor(private readonly client: PoolClient) {}

  async rows<T extends QueryResultRow>(text: string, params: unknown[] = [], name?: string): Promise<T[]> {
    return (await this.client.query<T>({ text, values: params, name })).rows;
  }

  async one<T extends QueryResultRow>(
    text: string,
    params: unknown[] = [],
    name?: string,
  ): Promise<T | null> {
    return (await this.rows<T>(text, params, name))[0] ?? null;
  }
}
