import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { normalizeEmail, PageQueryDto } from '@app/common';
import { MESSAGE_STATUSES, type MessageStatus, type RecipientType } from '../message-status';

export class ListMessagesQueryDto extends PageQueryDto {
  /** Only messages in this status. */
  @IsOptional()
  @IsIn(MESSAGE_STATUSES)
  status?: MessageStatus;

  /** Only messages to this recipient (compared case-insensitively). @example "known@example.test" */
  @IsOptional()
  @Transform(({ value }) => normalizeEmail(value))
  @IsString()
  @MaxLength(254)
  recipient?: string;

  /** Only messages with this tag (the request's `X-Leadpush-Tag`). @example "password-reset" */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  tag?: string;
}

export class MessageEventDto {
  /** The status the message entered. @example "sent" */
  type: string;
  at: Date;
  /** SMTP reply code and text, attempt number, reason. @example {"attempt": 1, "smtp_code": 250, "smtp_response": "250 OK"} */
  detail: Record<string, unknown>;
}

export class MessageSummaryDto {
  uuid: string;
  /** @example "known@example.test" */
  recipient: string;
  /** @example "to" */
  type: RecipientType;
  /** The actual sender. @example "sender@developer.test" */
  from: string;
  subject: string;
  /** @example "sent" */
  status: MessageStatus;
  tag: string | null;
  contact_id: string | null;
  created_at: Date;
  /** When a scheduled send is due; null for one sent at once. */
  scheduled_at: Date | null;
  /** The door the email came in by. @example "api" */
  source: 'api' | 'smtp';
  /** Sent with a test key: never delivered, outcomes simulated. */
  test: boolean;
}

export class MessageAttachmentDto {
  /** @example "invoice-1042.pdf" */
  filename: string;
  /** @example "application/pdf" */
  content_type: string;
  /** Decoded size in bytes. @example 48213 */
  size: number;
}

export class MessageDto extends MessageSummaryDto {
  /** The request's attachments, in order. */
  attachments: MessageAttachmentDto[];
  /** Every status the message entered, oldest first. */
  events: MessageEventDto[];
}

export class MessageResponse {
  data: MessageDto;
}

export class MessagePage {
  data: MessageSummaryDto[];
  /** Pass as `cursor` to get the next page; null on the last one. */
  next_cursor: string | null;
}

export class RescheduleMessageDto {
  /**
   * The new time: an ISO 8601 date-time with `Z` or an offset, at most 30
   * days ahead. A time in the past or now releases the message at once.
   * @example "2026-12-24T08:00:00Z"
   */
  scheduled_at: string;
}
