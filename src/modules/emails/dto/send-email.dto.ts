import {
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  ValidateBy,
  ValidationArguments,
} from 'class-validator';
import { IsEmailList, IsHeaderMap, IsNormalizedEmail, IsSingleLine, normalizeEmail } from '@app/common';
import type { MessageStatus, RecipientType } from '../../messages/message-status';

export const MAX_RECIPIENTS = 50;
const MAX_LISTED_ADDRESSES = 500;
export const TAG_HEADER = 'x-leadpush-tag';
export const MAX_TAG_LENGTH = 200;

/**
 * Header names that cannot be given, lower-cased: those SPEC §7 reserves, and
 * those that would break the MIME structure or the DKIM signature, promise a
 * Cc that is never sent, or forge the trace and authentication results that
 * only relays write.
 */
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'bcc',
  'reply-to',
  'subject',
  'message-id',
  'return-path',
  'cc',
  'sender',
  'date',
  'mime-version',
  'dkim-signature',
  'received',
  'authentication-results',
]);

/** Prefixes of reserved header names, lower-cased: everything MIME (`Content-*`), resent and ARC headers, and ours. */
const RESERVED_HEADER_PREFIXES = ['content-', 'resent-', 'arc-', 'x-leadpush-'];

/** Every distinct, normalized recipient across `to` and `bcc`. */
export function uniqueRecipients(to: unknown, bcc: unknown): Set<string> {
  const all = [to, bcc].flatMap((list) => (Array.isArray(list) ? list : []));
  return new Set(all.filter((a): a is string => typeof a === 'string').map((a) => normalizeEmail(a)));
}

const isAbsent = (value: unknown) => value === undefined || value === null || value === '';

/** `html` / `text`: each optional, a string when given, but at least one of the two not empty. */
function IsBodyPart(other: 'html' | 'text'): PropertyDecorator {
  return ValidateBy({
    name: 'isBodyPart',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        isAbsent(value)
          ? !isAbsent((args?.object as Record<string, unknown>)[other])
          : typeof value === 'string',
      defaultMessage: (args?: ValidationArguments) =>
        isAbsent(args?.value)
          ? 'at least one of html and text is required'
          : `${args?.property} must be a string`,
    },
  });
}

/** 1 to 50 unique recipients across `to` and `bcc`. */
function HasRecipients(): PropertyDecorator {
  return ValidateBy({
    name: 'hasRecipients',
    validator: {
      validate: (_: unknown, args?: ValidationArguments) => {
        const { to, bcc } = args?.object as SendEmailDto;
        const count = uniqueRecipients(to, bcc).size;
        return count >= 1 && count <= MAX_RECIPIENTS;
      },
      defaultMessage: (args?: ValidationArguments) => {
        const { to, bcc } = args?.object as SendEmailDto;
        return uniqueRecipients(to, bcc).size === 0
          ? 'at least one recipient is required across to and bcc'
          : `at most ${MAX_RECIPIENTS} unique recipients are allowed across to and bcc`;
      },
    },
  });
}

export class SendEmailDto {
  /** A verified sender address of the workspace (compared case-insensitively). @example "sender@developer.test" */
  @IsNormalizedEmail()
  from: string;

  /** One line, at most 998 characters. @example "Reset your password" */
  @IsString()
  @IsNotEmpty()
  @MaxLength(998)
  @IsSingleLine()
  subject: string;

  /** HTML body. At least one of `html` and `text`. @example "<p>Your code is <b>123456</b></p>" */
  @IsBodyPart('text')
  html?: string | null;

  /** Plain-text body. At least one of `html` and `text`. @example "Your code is 123456" */
  @IsBodyPart('html')
  text?: string | null;

  /** Visible recipients; listed in every copy's To header. @example ["known@example.test", "other@example.test"] */
  @HasRecipients()
  @IsEmailList(MAX_LISTED_ADDRESSES)
  to?: string[] | null;

  /** Hidden recipients: each gets its own copy; never shown in any header. @example ["audit@example.test"] */
  @IsEmailList(MAX_LISTED_ADDRESSES)
  bcc?: string[] | null;

  /** @example "support@developer.test" */
  @IsOptional()
  @IsNormalizedEmail()
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
  @IsOptional()
  @IsHeaderMap({
    maxHeaders: 50,
    maxValueLength: 2000,
    reserved: RESERVED_HEADERS,
    reservedPrefixes: RESERVED_HEADER_PREFIXES,
    allowedUnderPrefix: new Set([TAG_HEADER]),
    maxValueLengthOf: { [TAG_HEADER]: MAX_TAG_LENGTH },
  })
  headers?: Record<string, string> | null;
}

export class AcceptedMessageDto {
  uuid: string;
  /** @example "known@example.test" */
  recipient: string;
  /** @example "to" */
  type: RecipientType;
  /** The actual sender: the contact's delivery route when it has a sendable one, else `from`. @example "sender@developer.test" */
  from: string;
  /** @example "pending" */
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
