/** How a failed SMTP hand-over ends the attempt. */
export interface FailedHandover {
  /** `bounce`: the server refused this recipient for good. `retry`: try again later. */
  kind: 'bounce' | 'retry';
  code: number | null;
  response: string;
}

/** nodemailer error codes that carry the server's answer about this message or recipient. */
const MESSAGE_STAGE_CODES = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * Classifies a send error: a 5xx reply to the recipient or the message is a
 * hard bounce; a 4xx, a connection failure, a timeout, or a 5xx about the
 * connection itself (authentication, TLS) is retried.
 */
export function classifySmtpError(error: unknown): FailedHandover {
  const e = (error ?? {}) as {
    responseCode?: unknown;
    response?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  const response = String(e.response ?? e.message ?? 'unknown error').slice(0, 1000);
  const permanent = code !== null && code >= 500 && code < 600 && MESSAGE_STAGE_CODES.has(String(e.code));
  return { kind: permanent ? 'bounce' : 'retry', code, response };
}

/** Delay before attempt `attempt + 1`: the first retry waits `backoffMs`, each next one twice as long. */
export function retryDelayMs(backoffMs: number, attempt: number): number {
  return backoffMs * 2 ** Math.max(0, attempt - 1);
}
