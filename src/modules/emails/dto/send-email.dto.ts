import type { MessageStatus, RecipientType } from '../../messages/message-status';

/*
 * The shapes of the send routes, for the API documentation. The rules a body
 * must follow are send-rules.ts (SPEC §7 step 4), which the routes apply to
 * the body as given.
 */

export class AttachmentDto {
  /** 1-255 characters without `/`, `\`, CR, LF or NUL; not ending in a blocked extension such as `.exe` or `.js`. @example "invoice-1042.pdf" */
  filename: string;

  /** The file's bytes in standard base64 (padded, no line breaks). @example "JVBERi0xLjQK" */
  content: string;

  /** `type/subtype`; by default from the filename's extension, else `application/octet-stream`. @example "application/pdf" */
  content_type?: string | null;

  /** 1-255 printable characters: makes the attachment inline, referenced from `html` as `cid:<content_id>`. @example "logo" */
  content_id?: string | null;
}

export class SendEmailDto {
  /** A verified sender address of the workspace (compared case-insensitively). @example "sender@developer.test" */
  from: string;

  /** One line, at most 998 characters. @example "Reset your password" */
  subject: string;

  /** HTML body. At least one of `html` and `text`. @example "<p>Your code is <b>123456</b></p>" */
  html?: string | null;

  /** Plain-text body. At least one of `html` and `text`. @example "Your code is 123456" */
  text?: string | null;

  /** Visible recipients; listed in every copy's To header. At most 50 unique recipients across `to` and `bcc`. @example ["known@example.test", "other@example.test"] */
  to?: string[] | null;

  /** Hidden recipients: each gets its own copy; never shown in any header. @example ["audit@example.test"] */
  bcc?: string[] | null;

  /** @example "support@developer.test" */
  reply_to?: string | null;

  /**
   * Custom headers: names of letters, digits and hyphens, string values without
   * line breaks, at most 50 of 2,000 characters. From, To, Cc, Bcc, Sender,
   * Reply-To, Subject, Message-ID, Return-Path, Date, MIME-Version,
   * DKIM-Signature, Received, Authentication-Results, Content-*, Resent-*,
   * ARC-* and X-Leadpush-* are reserved, except X-Leadpush-Tag, whose value
   * tags every resulting message and is not sent.
   * @example {"X-Correlation-ID": "req-42", "Auto-Submitted": "auto-generated", "X-Leadpush-Tag": "password-reset"}
   */
  headers?: Record<string, string> | null;

  /** At most 20 files, sent as MIME parts; inline ones (with `content_id`) by Content-ID. */
  attachments?: AttachmentDto[] | null;

  /**
   * An ISO 8601 date-time with `Z` or an offset, at most 30 days ahead: the
   * messages are `scheduled` and nothing is delivered before then. A time in
   * the past or now sends at once. @example "2026-12-24T08:00:00Z"
   */
  scheduled_at?: string | null;
}

export class SendBatchDto {
  /** 1 to 100 emails, each a body of POST /v1/emails; all are stored, or none. */
  emails: SendEmailDto[];
}

export class AcceptedMessageDto {
  uuid: string;
  /** @example "known@example.test" */
  recipient: string;
  /** @example "to" */
  type: RecipientType;
  /** The actual sender: the contact's delivery route when it has a sendable one, else `from`. @example "sender@developer.test" */
  from: string;
  /** `scheduled` when `scheduled_at` lies in the future, else `pending`. @example "pending" */
  status: MessageStatus;
}

export class AcceptedEmailDto {
  accepted: true;
  /** @example 2 */
  message_count: number;
  messages: AcceptedMessageDto[];
}

export class AcceptedEmailResponse {
  data: AcceptedEmailDto;
}

export class AcceptedBatchResponse {
  /** One answer per email of the batch, in order. */
  data: AcceptedEmailDto[];
}
