import { Injectable } from '@nestjs/common';
import {
  ConflictError,
  decodeCursor,
  isUuid,
  NotFoundError,
  Page,
  toPage,
  ValidationFailedError,
} from '@app/common';
import { Sql } from '../../database/sql';
import { DeliveryProducer } from '../delivery/delivery.producer';
import { checkReschedule } from '../emails/send-rules';
import { SuppressionsService } from '../suppressions/suppressions.service';
import {
  ListMessagesQueryDto,
  MessageAttachmentDto,
  MessageDto,
  MessageEventDto,
  MessageSummaryDto,
} from './dto/message.dto';
import { AttachmentsRepository, RETRYABLE_RETENTION_DAYS } from './attachments.repository';
import { MessageLifecycle } from './message-lifecycle';
import { type MessageStatus, TRANSITIONS } from './message-status';

interface MessageRow {
  id: string;
  recipient: string;
  type: MessageSummaryDto['type'];
  from_email: string;
  subject: string;
  status: MessageSummaryDto['status'];
  tag: string | null;
  contact_id: string | null;
  created_at: Date;
  scheduled_at: Date | null;
  source: MessageSummaryDto['source'];
  test: boolean;
}

const SUMMARY_COLUMNS = `m.id, m.recipient, m.type, m.from_email, r.subject, m.status, m.tag, m.contact_id, m.created_at,
  m.scheduled_at, r.source, r.test`;

function toSummary(row: MessageRow): MessageSummaryDto {
  return {
    uuid: row.id,
    recipient: row.recipient,
    type: row.type,
    from: row.from_email,
    subject: row.subject,
    status: row.status,
    tag: row.tag,
    contact_id: row.contact_id,
    created_at: row.created_at,
    scheduled_at: row.scheduled_at,
    source: row.source,
    test: row.test,
  };
}

const notRetryable = (message: string) => new ConflictError(message, 'not_retryable');
const notScheduled = (status: MessageStatus) =>
  new ConflictError(
    `The message is ${status}; only scheduled messages can be rescheduled or canceled`,
    'not_scheduled',
  );

/**
 * Reading messages back: one message with its attachments (names, types and
 * sizes; never the bytes) and events, or a filtered list (which never touches
 * the attachments); releasing held ones again (retry); moving and canceling
 * scheduled ones.
 */
@Injectable()
export class MessagesService {
  constructor(
    private readonly sql: Sql,
    private readonly lifecycle: MessageLifecycle,
    private readonly attachments: AttachmentsRepository,
    private readonly suppressions: SuppressionsService,
    private readonly producer: DeliveryProducer,
  ) {}

  async get(workspaceId: string, uuid: string): Promise<MessageDto> {
    if (!isUuid(uuid)) throw new NotFoundError('Message');
    const row = await this.sql.one<
      MessageRow & { attachments: MessageAttachmentDto[]; events: MessageEventDto[] }
    >(
      `SELECT ${SUMMARY_COLUMNS},
              COALESCE((SELECT json_agg(json_build_object('filename', a.filename, 'content_type', a.content_type,
                                                          'size', a.size) ORDER BY a.position)
                          FROM email_attachments a WHERE a.request_id = m.request_id), '[]') AS attachments,
              COALESCE((SELECT json_agg(json_build_object('type', e.type, 'at', e.at, 'detail', e.detail) ORDER BY e.id)
                          FROM message_events e WHERE e.message_id = m.id), '[]') AS events
         FROM messages m JOIN email_requests r ON r.id = m.request_id
        WHERE m.id = $1 AND m.workspace_id = $2`,
      [uuid, workspaceId],
    );
    if (!row) throw new NotFoundError('Message');
    return { ...toSummary(row), attachments: row.attachments, events: row.events };
  }

  /**
   * Retries a `suppressed` or `failed` message (SPEC §9) unless its recipient
   * is still suppressed or its attachments' bytes were dropped (kept
   * RETRYABLE_RETENTION_DAYS after it ended), and queues it; a queue that is
   * down leaves it to the sweeper. The transition's guard decides a race with
   * anything else, the request's row lock a race with the dropping of bytes.
   */
  async retry(workspaceId: string, uuid: string, requestId?: string): Promise<MessageDto> {
    if (!isUuid(uuid)) throw new NotFoundError('Message');
    const row = await this.sql.one<{ status: MessageStatus; recipient: string; request_id: string }>(
      `SELECT status, recipient, request_id FROM messages WHERE id = $1 AND workspace_id = $2`,
      [uuid, workspaceId],
    );
    if (!row) throw new NotFoundError('Message');
    const retryable: readonly MessageStatus[] = TRANSITIONS.retry.from;
    if (!retryable.includes(row.status)) {
      throw notRetryable(`The message is ${row.status}; only suppressed or failed messages can be retried`);
    }
    if (await this.suppressions.isSuppressed(workspaceId, row.recipient)) {
      throw notRetryable(`${row.recipient} is still on the suppression list; remove it first`);
    }
    await this.sql.transaction(async (tx) => {
      if (!(await this.attachments.holdForRetry(tx, row.request_id))) {
        throw notRetryable(
          `The message's attachments are no longer stored (they are kept ${RETRYABLE_RETENTION_DAYS} days after ` +
            'a failed or suppressed delivery); send it again',
        );
      }
      if (!(await this.lifecycle.retry(workspaceId, uuid, tx))) {
        throw notRetryable('The message changed meanwhile and can no longer be retried');
      }
    });
    await this.producer.enqueue([{ messageId: uuid, requestId }]);
    return this.get(workspaceId, uuid);
  }

  /**
   * Gives a `scheduled` message a new time (SPEC §9), under the rule of a
   * send's `scheduled_at`. A time in the past or now releases it at once, as
   * a send with such a time is: `pending`, and queued.
   */
  async reschedule(
    workspaceId: string,
    uuid: string,
    body: unknown,
    requestId?: string,
  ): Promise<MessageDto> {
    if (!isUuid(uuid)) throw new NotFoundError('Message');
    const now = new Date();
    const checked = checkReschedule(body, now);
    if (!checked.ok) throw new ValidationFailedError(checked.errors);
    if (!(await this.lifecycle.reschedule(workspaceId, uuid, checked.value))) {
      throw notScheduled(await this.statusOf(workspaceId, uuid));
    }
    if (checked.value <= now && (await this.lifecycle.release(uuid))) {
      await this.producer.enqueue([{ messageId: uuid, requestId }]);
    }
    return this.get(workspaceId, uuid);
  }

  /** Cancels a `scheduled` message for good (SPEC §9): one conditional UPDATE, so it is either canceled or released. */
  async cancel(workspaceId: string, uuid: string): Promise<MessageDto> {
    if (!isUuid(uuid)) throw new NotFoundError('Message');
    if (!(await this.lifecycle.cancel(workspaceId, uuid))) {
      throw notScheduled(await this.statusOf(workspaceId, uuid));
    }
    return this.get(workspaceId, uuid);
  }

  /** The status of a message of the workspace; 404 when there is none. */
  private async statusOf(workspaceId: string, uuid: string): Promise<MessageStatus> {
    const row = await this.sql.one<{ status: MessageStatus }>(
      `SELECT status FROM messages WHERE id = $1 AND workspace_id = $2`,
      [uuid, workspaceId],
    );
    if (!row) throw new NotFoundError('Message');
    return row.status;
  }

  async list(workspaceId: string, query: ListMessagesQueryDto): Promise<Page<MessageSummaryDto>> {
    const cursor = decodeCursor(query.cursor);
    const params: unknown[] = [workspaceId];
    const where = ['m.workspace_id = $1'];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (query.status) add('m.status = ?', query.status);
    if (query.recipient) add('m.recipient = ?', query.recipient);
    if (query.tag) add('m.tag = ?', query.tag);
    if (cursor) {
      params.push(cursor.createdAt, cursor.id);
      where.push(`(m.created_at, m.id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(query.limit + 1);
    const rows = await this.sql.rows<MessageRow>(
      `SELECT ${SUMMARY_COLUMNS}
         FROM messages m JOIN email_requests r ON r.id = m.request_id
        WHERE ${where.join(' AND ')}
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT $${params.length}`,
      params,
    );
    return toPage(
      rows.map((row) => ({ ...row, createdAt: row.created_at })),
      query.limit,
      toSummary,
    );
  }
}
