import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Sql, SqlRunner } from '../../database/sql';

export interface StoredReport {
  id: string;
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
}

export interface ReportResult {
  outcome: 'applied' | 'dropped';
  detail: Record<string, unknown>;
}

/** The inbound_reports table: mail the inbound listener took, until it is processed, and its outcome after. */
@Injectable()
export class InboundReportsRepository {
  constructor(private readonly sql: Sql) {}

  /** Stores a received message (committed when this resolves: then it may be answered 250). */
  async store(mailFrom: string, rcptTo: string[], raw: Buffer): Promise<string> {
    const id = randomUUID();
    await this.sql.exec(`INSERT INTO inbound_reports (id, mail_from, rcpt_to, raw) VALUES ($1, $2, $3, $4)`, [
      id,
      mailFrom,
      rcptTo,
      raw,
    ]);
    return id;
  }

  /**
   * Runs `work` on an unprocessed report while holding its row, then records
   * its result and drops its bytes, in one transaction, which `work` writes
   * in too (`tx`); false when the report is processed already or another
   * worker holds it. A worker that dies midway leaves it unprocessed, and
   * what `work` wrote undone, for the sweeper.
   */
  async processOnce(
    id: string,
    work: (report: StoredReport, tx: SqlRunner) => Promise<ReportResult>,
  ): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const row = await tx.one<{ mail_from: string; rcpt_to: string[]; raw: Buffer }>(
        `SELECT mail_from, rcpt_to, raw FROM inbound_reports
          WHERE id = $1 AND processed_at IS NULL FOR UPDATE SKIP LOCKED`,
        [id],
      );
      if (!row) return false;
      const result = await work({ id, mailFrom: row.mail_from, rcptTo: row.rcpt_to, raw: row.raw }, tx);
      await tx.exec(
        `UPDATE inbound_reports SET processed_at = now(), outcome = $2, detail = $3, raw = NULL WHERE id = $1`,
        [id, result.outcome, JSON.stringify(result.detail)],
      );
      return true;
    });
  }

  /** Reports still unprocessed `graceMs` after they arrived (their job was lost), oldest first. */
  async unprocessed(graceMs: number, limit: number): Promise<string[]> {
    const rows = await this.sql.rows<{ id: string }>(
      `SELECT id FROM inbound_reports
        WHERE processed_at IS NULL AND received_at < now() - $1 * interval '1 millisecond'
        ORDER BY received_at, id LIMIT $2`,
      [graceMs, limit],
    );
    return rows.map((row) => row.id);
  }

  /** Forgets processed reports older than `days`. */
  prune(days: number): Promise<number> {
    return this.sql.exec(
      `DELETE FROM inbound_reports WHERE processed_at IS NOT NULL AND processed_at < now() - $1 * interval '1 day'`,
      [days],
    );
  }
}
