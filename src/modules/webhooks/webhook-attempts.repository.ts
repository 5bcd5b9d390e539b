import { Injectable } from '@nestjs/common';
import { decodeCursor, isUuid, NotFoundError, Page, PageQueryDto, toPage } from '@app/common';
import { Sql } from '../../database/sql';
import type { AttemptOutcome, WebhookAttemptDto } from './dto/webhook.dto';
import { webhookId } from './webhook-events';

interface AttemptRow {
  id: string;
  event_id: string;
  type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  at: Date;
  next_attempt_at: Date | null;
  outcome: AttemptOutcome;
}

/** The delivery log of `GET /v1/webhooks/:id/deliveries`: every attempt, read from webhook_attempts. */
@Injectable()
export class WebhookAttemptsRepository {
  constructor(private readonly sql: Sql) {}

  /** Every attempt to post to one of the workspace's endpoints, newest first (404 for another workspace's). */
  async list(workspaceId: string, endpointId: string, page: PageQueryDto): Promise<Page<WebhookAttemptDto>> {
    const cursor = decodeCursor(page.cursor);
    const endpoint = isUuid(endpointId)
      ? await this.sql.one(`SELECT 1 FROM webhook_endpoints WHERE id = $1 AND workspace_id = $2`, [
          endpointId,
          workspaceId,
        ])
      : null;
    if (!endpoint) throw new NotFoundError('Webhook');
    const rows = await this.sql.rows<AttemptRow>(
      `SELECT a.id, d.event_id::text, d.type, a.attempt, a.status_code, a.error, a.at, a.next_attempt_at, a.outcome
         FROM webhook_attempts a
         JOIN webhook_deliveries d ON d.id = a.delivery_id
         JOIN webhook_endpoints e ON e.id = a.endpoint_id
        WHERE a.endpoint_id = $1 AND e.workspace_id = $2
          AND ($3::timestamptz IS NULL OR (a.at, a.id) < ($3::timestamptz, $4::uuid))
        ORDER BY a.at DESC, a.id DESC
        LIMIT $5`,
      [endpointId, workspaceId, cursor?.createdAt ?? null, cursor?.id ?? null, page.limit + 1],
    );
    return toPage(
      rows.map((row) => ({ ...row, createdAt: row.at })),
      page.limit,
      (row) => ({
        id: row.id,
        event_id: webhookId(row.event_id),
        type: row.type,
        attempt: row.attempt,
        status_code: row.status_code,
        error: row.error,
        at: row.at,
        next_attempt_at: row.next_attempt_at,
        outcome: row.outcome,
      }),
    );
  }
}
