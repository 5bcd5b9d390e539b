import type { SMTPServer } from 'smtp-server';
import { settleWithin } from '../scheduling/settle-within';

/**
 * An SMTP reply as an error, for smtp-server's callbacks: it sends an error's
 * `responseCode` (one without would go out as 450) and its message, here the
 * enhanced status code first and then the reason.
 */
export class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    enhanced: string,
    text: string,
  ) {
    super(`${enhanced} ${text}`);
  }
}

/** Starts `server` on `port` (0: a free one); rejects when the port cannot be taken. */
export function listenSmtp(server: SMTPServer, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
}

/** The port `server` listens on; null when there is no server. */
export function listeningPort(server: SMTPServer | null): number | null {
  const address = server?.server.address();
  return address && typeof address === 'object' ? address.port : null;
}

/**
 * Stops `server` for a shutdown: no new connections; the messages in
 * `inFlight` (being stored, not answered yet) get up to `graceMs` to be
 * answered, then every remaining session is told 421 and closed.
 */
export async function closeSmtp(
  server: SMTPServer,
  inFlight: Iterable<Promise<unknown>>,
  graceMs: number,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await settleWithin(Promise.allSettled([...inFlight]), graceMs);
  for (const connection of server.connections) {
    connection.send(421, '4.3.2 Server shutting down');
    connection.close();
  }
  await closed;
}
