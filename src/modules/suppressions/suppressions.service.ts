import { Injectable } from '@nestjs/common';
import {
  decodeCursor,
  GroupCommit,
  MAX_EMAIL_LENGTH,
  normalizeEmail,
  NotFoundError,
  Page,
  PageQueryDto,
  toPage,
} from '@app/common';
import { Sql, SqlRunner } from '../../database/sql';
import { SuppressionDto } from './dto/suppression.dto';

export type SuppressionReason = 'hard_bounce' | 'complaint' | 'manual';

interface SuppressionRow {
  email: string;
  reason: string;
  created_at: Date;
}

const toDto = (row: SuppressionRow): SuppressionDto => ({
  email: row.email,
  reason: row.reason,
  created_at: row.created_at,
});

/** Most lookups one statement answers, and most such statements at a time. */
const LOOKUP_BATCH = { maxBatch: 200, maxConcurrent: 2 };

interface Lookup {
  workspaceId: string;
  email: string;
}

/** A workspace's suppression list (the `suppressions` table): recipients delivery must skip. */
@Injectable()
export class SuppressionsService {
  /** Concurrent checks (one per message a worker delivers) answered by one statement. */
  private readonly lookups: GroupCommit<Lookup, boolean>;

  constructor(private readonly sql: Sql) {
    // A failed lookup is never one item's fault: the whole batch fails, as one statement would.
    this.lookups = new GroupCommit((items) => this.lookUp(items), { ...LOOKUP_BATCH, isolate: () => false });
  }

  /**
   * Adds an address; answers whether it was new (an existing entry keeps its
   * reason). One statement, so a concurrent DELETE cannot slip in between an
   * insert that found the row and a read that no longer does. With `db` a
   * transaction, it commits with whatever else that transaction writes.
   */
  async add(
    workspaceId: string,
    email: string,
    reason: SuppressionReason,
    db: SqlRunner = this.sql,
  ): Promise<{ created: boolean; suppression: SuppressionDto }> {
    const row = await db.one<SuppressionRow & { created: boolean }>(
      `INSERT INTO suppressions AS s (workspace_id, email, reason) VALUES ($1, $2, $3)
       ON CONFLICT (workspace_id, email) DO UPDATE SET reason = s.reason
       RETURNING email, reason, created_at, xmax = 0 AS created`,
      [workspaceId, email, reason],
    );
    return { created: row!.created, suppression: toDto(row!) };
  }

  /** Whether `email` (already normalized) is on the workspace's list. */
  isSuppressed(workspaceId: string, email: string): Promise<boolean> {
    return this.lookups.submit({ workspaceId, email });
  }

  private async lookUp(items: Lookup[]): Promise<boolean[]> {
    const rows = await this.sql.rows<{ i: string }>(
      `SELECT r.i FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS r(workspace_id, email, i)
        WHERE EXISTS (SELECT 1 FROM suppressions s WHERE s.workspace_id = r.workspace_id AND s.email = r.email)`,
      [items.map((item) => item.workspaceId), items.map((item) => item.email)],
      'are-suppressed',
    );
    const found = new Set(rows.map((row) => Number(row.i) - 1));
    return items.map((_, i) => found.has(i));
  }

  async remove(workspaceId: string, email: string): Promise<void> {
    const removed = await this.sql.exec(`DELETE FROM suppressions WHERE workspace_id = $1 AND email = $2`, [
      workspaceId,
      normalizeEmail(email),
    ]);
    if (removed === 0) throw new NotFoundError('Suppression');
  }

  async list(workspaceId: string, page: PageQueryDto): Promise<Page<SuppressionDto>> {
    const cursor = decodeCursor(page.cursor, (email) => email.length <= MAX_EMAIL_LENGTH);
    const rows = await this.sql.rows<SuppressionRow>(
      `SELECT email, reason, created_at FROM suppressions
        WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR (created_at, email) < ($2, $3))
        ORDER BY created_at DESC, email DESC
        LIMIT $4`,
      [workspaceId, cursor?.createdAt ?? null, cursor?.id ?? null, page.limit + 1],
    );
    return toPage(
      rows.map((row) => ({ ...row, createdAt: row.created_at, id: row.email })),
      page.limit,
      toDto,
    );
  }
}
