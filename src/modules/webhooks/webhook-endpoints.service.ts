import { Inject, Injectable } from '@nestjs/common';
import {
  decodeCursor,
  isUuid,
  NotFoundError,
  Page,
  PageQueryDto,
  sealSecret,
  toPage,
  ValidationFailedError,
} from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { Sql, SqlRunner } from '../../database/sql';
import { CreatedWebhookDto, CreateWebhookDto, UpdateWebhookDto, WebhookDto } from './dto/webhook.dto';
import { newSigningSecret } from './signature';
import { checkTarget, RefusedUrlError } from './url-safety';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events';

interface EndpointRow {
  id: string;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  created_at: Date;
}

/** An enabled endpoint as the dispatcher matches events against it. */
export interface Subscriber {
  id: string;
  workspaceId: string;
  events: Set<string>;
  createdAt: Date;
}

const COLUMNS = 'id, url, events, enabled, created_at';

/**
 * A workspace's webhook endpoints (SPEC §12). The signing secret is made
 * here, shown once, and stored sealed with the DKIM_ENCRYPTION_KEY
 * (sealSecret); no other answer carries it. Every query is scoped by the
 * workspace.
 */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    private readonly sql: Sql,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(workspaceId: string, dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    await this.checkUrl(dto.url);
    const secret = newSigningSecret();
    const row = await this.sql.one<EndpointRow>(
      `INSERT INTO webhook_endpoints (workspace_id, url, events, secret) VALUES ($1, $2, $3, $4)
       RETURNING ${COLUMNS}`,
      [
        workspaceId,
        dto.url,
        eventList(dto.events ?? WEBHOOK_EVENT_TYPES),
        sealSecret(secret, this.config.dkimEncryptionKey),
      ],
    );
    return { ...toDto(row!), secret };
  }

  async list(workspaceId: string, page: PageQueryDto): Promise<Page<WebhookDto>> {
    const cursor = decodeCursor(page.cursor);
    const rows = await this.sql.rows<EndpointRow>(
      `SELECT ${COLUMNS} FROM webhook_endpoints
        WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $4`,
      [workspaceId, cursor?.createdAt ?? null, cursor?.id ?? null, page.limit + 1],
    );
    return toPage(
      rows.map((row) => ({ ...row, createdAt: row.created_at })),
      page.limit,
      toDto,
    );
  }

  async get(workspaceId: string, id: string): Promise<WebhookDto> {
    const row = isUuid(id)
      ? await this.sql.one<EndpointRow>(
          `SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1 AND workspace_id = $2`,
          [id, workspaceId],
        )
      : null;
    if (!row) throw new NotFoundError('Webhook');
    return toDto(row);
  }

  async update(workspaceId: string, id: string, dto: UpdateWebhookDto): Promise<WebhookDto> {
    await this.get(workspaceId, id);
    if (dto.url !== undefined) await this.checkUrl(dto.url);
    const row = await this.sql.one<EndpointRow>(
      `UPDATE webhook_endpoints
          SET url = coalesce($3, url), events = coalesce($4, events), enabled = coalesce($5, enabled), updated_at = now()
        WHERE id = $1 AND workspace_id = $2
       RETURNING ${COLUMNS}`,
      [id, workspaceId, dto.url ?? null, dto.events ? eventList(dto.events) : null, dto.enabled ?? null],
    );
    if (!row) throw new NotFoundError('Webhook');
    return toDto(row);
  }

  async remove(workspaceId: string, id: string): Promise<void> {
    const removed = isUuid(id)
      ? await this.sql.exec(`DELETE FROM webhook_endpoints WHERE id = $1 AND workspace_id = $2`, [
          id,
          workspaceId,
        ])
      : 0;
    if (!removed) throw new NotFoundError('Webhook');
  }

  /** The enabled endpoints of these workspaces, in the caller's transaction. */
  async subscribers(db: SqlRunner, workspaceIds: string[]): Promise<Subscriber[]> {
    const rows = await db.rows<{ id: string; workspace_id: string; events: string[]; created_at: Date }>(
      `SELECT id, workspace_id, events, created_at FROM webhook_endpoints
        WHERE enabled AND workspace_id = ANY($1::uuid[])`,
      [workspaceIds],
      'webhook-subscribers',
    );
    return rows.map((row) => ({
      id: row.id,
      workspaceId: row.workspace_id,
      events: new Set(row.events),
      createdAt: row.created_at,
    }));
  }

  /** The SSRF rule at create and update time: a refused URL is a 422 on `url`. */
  private async checkUrl(url: string): Promise<void> {
    try {
      await checkTarget(url, {
        allowPrivate: this.config.webhooks.allowPrivate,
        timeoutMs: this.config.webhooks.timeoutMs,
      });
    } catch (error) {
      if (error instanceof RefusedUrlError)
        throw new ValidationFailedError([{ field: 'url', message: error.message }]);
      throw error;
    }
  }
}

/** The subscribed types without repeats, in the order of WEBHOOK_EVENT_TYPES. */
function eventList(events: readonly string[]): string[] {
  return WEBHOOK_EVENT_TYPES.filter((type) => events.includes(type));
}

function toDto(row: EndpointRow): WebhookDto {
  return { id: row.id, url: row.url, events: row.events, enabled: row.enabled, created_at: row.created_at };
}
