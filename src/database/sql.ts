import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Plain parameterized SQL on TypeORM's own pg pool, for hot paths where one
 * hand-written statement (often a CTE doing several writes at once) beats
 * several ORM round trips. Always returns rows, whatever the statement.
 */
@Injectable()
export class Sql {
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
}
