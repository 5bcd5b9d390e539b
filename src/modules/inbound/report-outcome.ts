import { plainTextBlock, type RecipientBlock, type Report } from './report-parser';

/** What a report does to one message (SPEC §13). */
export type ReportOutcome =
  | { kind: 'bounce'; detail: Record<string, unknown>; suppress: boolean }
  | { kind: 'delay'; detail: Record<string, unknown> }
  | { kind: 'complaint'; detail: Record<string, unknown>; suppress: boolean }
  | { kind: 'drop'; reason: string };

/** The message a report was matched to, as far as the rules need it. */
export interface ReportedMessage {
  recipient: string;
  /** A test key's message (SPEC §14): it never changes the suppression list. */
  test: boolean;
}

/** Enhanced statuses that say the address itself is bad: `5.1.x` (no such mailbox, bad domain) and `5.2.1` (disabled). */
export function isHardBounceStatus(status: string | null): boolean {
  return status !== null && (/^5\.1\.\d{1,3}$/.test(status) || status === '5.2.1');
}

/**
 * What `report` does to `message`: only the block about the message's own
 * recipient counts (Final-Recipient or Original-Recipient), the first
 * `failed` one before any `delayed` one; a complaint counts as a whole (it
 * was matched to this message by its return path or Message-ID, each unique
 * to one recipient's copy). Anything else is dropped, with the reason.
 */
export function outcomeFor(report: Report, message: ReportedMessage): ReportOutcome {
  if (report.kind === 'complaint') {
    return {
      kind: 'complaint',
      detail: { arf: true, feedback_type: report.feedbackType, user_agent: report.userAgent },
      suppress: !message.test,
    };
  }
  if (report.kind === 'other') return { kind: 'drop', reason: report.why };
  const recipient = message.recipient.toLowerCase();
  const blocks =
    report.kind === 'dsn'
      ? report.blocks.filter((b) => b.finalRecipient === recipient || b.originalRecipient === recipient)
      : [plainTextBlock(report.text, recipient)].filter((b): b is RecipientBlock => b !== null);
  const failed = blocks.find((b) => b.action === 'failed');
  const delayed = blocks.find((b) => b.action === 'delayed');
  const block = failed ?? delayed;
  if (!block) {
    return {
      kind: 'drop',
      reason: blocks.length > 0 ? 'no failed or delayed block' : 'no block about its recipient',
    };
  }
  const detail = {
    dsn: report.kind === 'dsn',
    status: block.status,
    diagnostic_code: block.diagnosticCode,
    remote_mta: block.remoteMta,
  };
  if (block === delayed) return { kind: 'delay', detail };
  return { kind: 'bounce', detail, suppress: !message.test && isHardBounceStatus(block.status) };
}
