/**
 * The PostgreSQL SQLSTATE codes Leadpush reacts to, named once
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html).
 */
export const SqlState = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  DUPLICATE_DATABASE: '42P04',
  QUERY_CANCELED: '57014',
  ADMIN_SHUTDOWN: '57P01',
  CRASH_SHUTDOWN: '57P02',
  CANNOT_CONNECT_NOW: '57P03',
} as const;

/** Classes: the first two characters of a code. */
const DATA_EXCEPTION = '22';
const INTEGRITY_CONSTRAINT_VIOLATION = '23';
const CONNECTION_EXCEPTION = '08';

/** Node's own socket errors, as pg reports them. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

/** The SQLSTATE (or Node error code) of a thrown value, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A value the database refused (class 22 data exception, class 23 integrity violation): the statement's data is at fault. */
export function isDataError(error: unknown): boolean {
  const code = sqlState(error);
  return (
    code?.startsWith(DATA_EXCEPTION) === true || code?.startsWith(INTEGRITY_CONSTRAINT_VIOLATION) === true
  );
}

/**
 * The connection to PostgreSQL failed or was dropped: refused, reset, class
 * 08, a server shutting down, or pg giving up on connecting. The statement
 * may or may not have committed.
 */
export function isConnectionLost(error: unknown): boolean {
  const code = sqlState(error);
  const message = (error as { message?: unknown } | null)?.message;
  return (
    (code !== undefined &&
      (SOCKET_ERRORS.has(code) ||
        code.startsWith(CONNECTION_EXCEPTION) ||
        code === SqlState.ADMIN_SHUTDOWN ||
        code === SqlState.CRASH_SHUTDOWN ||
        code === SqlState.CANNOT_CONNECT_NOW)) ||
    (typeof message === 'string' &&
      /timeout exceeded when trying to connect|Connection terminated/i.test(message))
  );
}

/** PostgreSQL cannot serve the request now: the connection is lost, or a statement ran past `statement_timeout`. */
export function isUnavailable(error: unknown): boolean {
  return isConnectionLost(error) || sqlState(error) === SqlState.QUERY_CANCELED;
}
