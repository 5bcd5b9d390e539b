import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsString, ValidateBy } from 'class-validator';
import { HasAtMostCharacters, IsOmittable } from '@app/common';
import { parseWebhookUrl } from '../url-safety';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../webhook-events';

const MAX_URL_LENGTH = 2048;

/** An absolute http:// or https:// URL with a host, at most 2048 characters. */
function IsWebhookUrl(): PropertyDecorator {
  return ValidateBy({
    name: 'isWebhookUrl',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseWebhookUrl(value) !== null,
      defaultMessage: () => '$property must be an http:// or https:// URL',
    },
  });
}

export class CreateWebhookDto {
  /**
   * Where events are posted. Unless WEBHOOK_ALLOW_PRIVATE=true, a host that is
   * or resolves to a loopback, private, link-local, unique-local, CGNAT,
   * multicast or unspecified address is refused.
   * @example "https://example.com/webhooks/leadpush"
   */
  @IsString()
  @HasAtMostCharacters(MAX_URL_LENGTH)
  @IsWebhookUrl()
  url: string;

  /** The event types posted to this endpoint; all of them when left out. */
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, required: false, example: ['message.sent'] })
  @IsOmittable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length * 2)
  @IsIn(WEBHOOK_EVENT_TYPES, {
    each: true,
    message: `each value in events must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  })
  events?: WebhookEventType[];
}

/** Fields left out stay as they are. */
export class UpdateWebhookDto {
  /** @example "https://example.com/webhooks/leadpush" */
  @IsOmittable()
  @IsString()
  @HasAtMostCharacters(MAX_URL_LENGTH)
  @IsWebhookUrl()
  url?: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, required: false, example: ['message.sent'] })
  @IsOmittable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length * 2)
  @IsIn(WEBHOOK_EVENT_TYPES, {
    each: true,
    message: `each value in events must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  })
  events?: WebhookEventType[];

  /** `false` stops posting to the endpoint; deliveries not yet made are dropped. */
  @IsOmittable()
  @IsBoolean()
  enabled?: boolean;
}

export class WebhookDto {
  id: string;
  /** @example "https://example.com/webhooks/leadpush" */
  url: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  events: WebhookEventType[];
  /** False after a `410` answer or a PATCH: nothing is posted to it. */
  enabled: boolean;
  created_at: Date;
}

export class CreatedWebhookDto extends WebhookDto {
  /** The signing secret (`whsec_` + base64 of 32 bytes). Shown only in this answer. */
  secret: string;
}

export class WebhookResponse {
  data: WebhookDto;
}

export class CreatedWebhookResponse {
  data: CreatedWebhookDto;
}

export class WebhookPage {
  data: WebhookDto[];
  /** Pass as `cursor` to get the next page; null on the last one. */
  next_cursor: string | null;
}

/** How an attempt ended. */
export const ATTEMPT_OUTCOMES = ['success', 'failure', 'gave_up', 'disabled'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One attempt to post an event to the endpoint. */
export class WebhookAttemptDto {
  id: string;
  /** The event's id: the `webhook-id` header, the same on every attempt. @example "evt_1042" */
  event_id: string;
  /** @example "message.sent" */
  type: string;
  /** 1 for the first attempt, then one more per retry. */
  attempt: number;
  /** The endpoint's HTTP status; null when it gave none (timeout, refused connection, refused address). */
  status_code: number | null;
  /** Why the attempt failed, in short; null on success. Response bodies are never kept. */
  error: string | null;
  at: Date;
  /** When the next attempt is due; null when there is none. */
  next_attempt_at: Date | null;
  /**
   * `success`; `failure` (retried at `next_attempt_at`); `gave_up` (the
   * last of WEBHOOK_RETRY_SCHEDULE failed); `disabled` (the endpoint answered
   * `410` and was disabled).
   */
  @ApiProperty({ enum: ATTEMPT_OUTCOMES })
  outcome: AttemptOutcome;
}

export class WebhookAttemptPage {
  data: WebhookAttemptDto[];
  /** Pass as `cursor` to get the next page; null on the last one. */
  next_cursor: string | null;
}
