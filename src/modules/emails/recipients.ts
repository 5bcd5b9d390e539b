import { normalizeEmail } from '@app/common';
import type { RecipientType } from '../messages/message-status';

export interface Recipient {
  email: string;
  type: RecipientType;
}

/**
 * Normalized (trimmed, lower-cased, by the normalizeEmail the DTO validated
 * with), deduplicated recipients: `to` as given, then `bcc`; an address in
 * both is a `to` recipient.
 */
export function planRecipients(to?: readonly string[] | null, bcc?: readonly string[] | null): Recipient[] {
  const seen = new Map<string, Recipient>();
  for (const [list, type] of [
    [to ?? [], 'to'],
    [bcc ?? [], 'bcc'],
  ] as const) {
    for (const raw of list) {
      const email = normalizeEmail(raw);
      if (!seen.has(email)) seen.set(email, { email, type });
    }
  }
  return [...seen.values()];
}

/** Custom headers to send, and the tag taken out of them (X-Leadpush-Tag, any case). */
export function splitTag(
  headers: Record<string, string> | null | undefined,
  tagHeader: string,
): { headers: Record<string, string>; tag: string | null } {
  let tag: string | null = null;
  const rest: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === tagHeader) tag = value;
    else rest[name] = value;
  }
  return { headers: rest, tag };
}
