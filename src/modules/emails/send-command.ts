import type { RecipientType } from '../messages/message-status';

/** Where a send came in. */
export type SendSource = 'api' | 'smtp';

export interface Recipient {
  /** Normalized: trimmed, lower-cased. */
  email: string;
  type: RecipientType;
}

export interface Attachment {
  filename: string;
  /** `type/subtype`, given or derived from the filename's extension. */
  contentType: string;
  /** Set: the attachment is inline, referenced from the html as `cid:<contentId>`. */
  contentId: string | null;
  /** The decoded bytes. */
  content: Buffer;
}

/**
 * What one send asks for, whichever door it came through (the HTTP routes
 * now, the SMTP relay next), once the rules of SPEC §7 step 4 hold
 * (send-rules.ts): every value normalized, every recipient once.
 */
export interface SendDraft {
  /** The sender asked for, normalized; step 5 checks it is sendable. */
  from: string;
  /** Unique recipients: `to` as given, then `bcc`. */
  recipients: Recipient[];
  replyTo: string | null;
  subject: string;
  html: string | null;
  text: string | null;
  /** A message given as MIME (SPEC §11) instead of the content fields. */
  raw?: Buffer;
  /** Custom headers to send, without the tag. */
  headers: Record<string, string>;
  /** `X-Leadpush-Tag`'s value. */
  tag: string | null;
  attachments: Attachment[];
  /** Not before this time; null sends at once. */
  scheduledAt: Date | null;
}

/** A send of a workspace: a draft plus who asked and through which door. */
export interface SendCommand extends SendDraft {
  /** From the auth context, never from the input. */
  workspaceId: string;
  source: SendSource;
  /** A test key's send (SPEC §14). */
  test: boolean;
}

/**
 * The parts of commands that make a call what it is, as plain JSON values
 * (attachment bytes as base64, times as ISO strings): what an idempotency key
 * remembers a call by.
 */
export function fingerprint(commands: readonly SendCommand[]): unknown {
  return commands.map(({ raw, attachments, scheduledAt, ...rest }) => ({
    ...rest,
    raw: raw?.toString('base64') ?? null,
    attachments: attachments.map((a) => ({ ...a, content: a.content.toString('base64') })),
    scheduledAt: scheduledAt?.toISOString() ?? null,
  }));
}
