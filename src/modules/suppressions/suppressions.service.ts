import { Injectable } from '@nestjs/common';
import {
  decodeCursor,
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

/** A workspace's suppression list (the `suppressions` table): recipients delivery must skip. */
@Injectable()
export class SuppressionsService {
  constructor(private readonly sql: Sql) {}

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
  async isSuppressed(workspaceId: string, email: string): Promise<boolean> {
    const row = await this.sql.one(
      `SELECT 1 FROM suppressions WHERE workspace_id = $1 AND email = $2`,
      [workspaceId, email],
      'is-suppressed',
    );
    return row !== null;
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
