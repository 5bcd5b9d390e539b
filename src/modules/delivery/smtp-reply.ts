/**
 * How a failed SMTP hand-over ends the attempt (SPEC §8). `bounce`: the
 * server refused this recipient or this message for good; `suppress` says
 * whether the address joins the suppression list. `retry`: a 4xx, a
 * connection failure, or a fault of the sender or the relay.
 */
export type FailedHandover =
  | { kind: 'bounce'; suppress: boolean; code: number | null; response: string }
  | { kind: 'retry'; code: number | null; response: string };

/** What is stored and shown when the relay gave no reply; the error itself only goes to the logs. */
export const NO_REPLY = {
  timeout: 'the relay did not answer in time',
  connection: 'connection to the relay failed',
  /** The message could not be built or signed (its DKIM key unreadable, the database unreachable). */
  preparation: 'the message could not be prepared for the relay',
} as const;

const MAX_RESPONSE_LENGTH = 1000;

/** Replies of the relay about its own access rules, never about the recipient. */
const AUTHENTICATION_CODES = new Set([530, 535]);

/** nodemailer's name for the step a reply answered; `DATA` with EMESSAGE is the end of DATA. */
type Stage = 'recipient' | 'message' | 'other';

interface NodemailerError {
  responseCode?: unknown;
  response?: unknown;
  code?: unknown;
  command?: unknown;
}

function stageOf(e: NodemailerError): Stage {
  if (e.command === 'RCPT TO') return 'recipient';
  if (e.command === 'DATA' && e.code === 'EMESSAGE') return 'message';
  return 'other';
}

/** The enhanced status code (RFC 3463) right after the reply code, e.g. `5.1.1` in `550 5.1.1 No such user`. */
export function enhancedStatus(response: string): string | null {
  const match = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})(?=\s|$)/.exec(response);
  return match ? match[1] : null;
}

/** Reply text as it can be stored: no NUL, no lone surrogate (both break the event write), bounded. */
export function sanitizeReply(text: string): string {
  return text
    .slice(0, MAX_RESPONSE_LENGTH)
    .replace(/\0/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * Classifies a send error from the command it answered, its reply code and
 * its enhanced status. A 5xx to RCPT TO or to the end of DATA bounces unless
 * it is 5.7.x; it suppresses for 5.1.x and 5.2.1, or for a 5xx to RCPT TO
 * without an enhanced status. A 5xx to anything else (MAIL FROM, AUTH, the
 * DATA command), a 530/535 and any 5.7.x are retried like a 4xx.
 */
export function classifySmtpError(error: unknown): FailedHandover {
  const e = (error ?? {}) as NodemailerError;
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  if (code === null || typeof e.response !== 'string') {
    const timedOut = e.code === 'ETIMEDOUT' || e.code === 'EABORT';
    return { kind: 'retry', code, response: timedOut ? NO_REPLY.timeout : NO_REPLY.connection };
  }
  const response = sanitizeReply(e.response);
  const stage = stageOf(e);
  const status = enhancedStatus(e.response);
  const permanent =
    code >= 500 &&
    code < 600 &&
    stage !== 'other' &&
    !AUTHENTICATION_CODES.has(code) &&
    !status?.startsWith('5.7.');
  if (!permanent) return { kind: 'retry', code, response };
  const suppress = status === null ? stage === 'recipient' : status.startsWith('5.1.') || status === '5.2.1';
  return { kind: 'bounce', suppress, code, response };
}

/** Delay before attempt `attempt + 1`: the first retry waits `backoffMs`, each next one twice as long. */
export function retryDelayMs(backoffMs: number, attempt: number): number {
  return backoffMs * 2 ** Math.max(0, attempt - 1);
}
