import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedTarget } from './url-safety';

/** What an endpoint answered: its status code, or why there was none. Bodies are never read. */
export interface PostResult {
  statusCode: number | null;
  error: string | null;
}

/**
 * A lookup that answers the address already checked: the socket connects
 * there, so no DNS answer can change between the check and the connection.
 * (net.connect asks for `all` addresses when it may try several families.)
 */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/**
 * POSTs `body` to the checked target within `timeoutMs` (connecting
 * included). Redirects are not followed: a 3xx is answered like any status.
 * The response body is drained and thrown away.
 */
export function postWebhook(
  target: CheckedTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostResult> {
  const { url } = target;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: PostResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = request(
      {
        method: 'POST',
        protocol: url.protocol,
        host: target.hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        auth: url.username
          ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
          : undefined,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(target.address, target.family),
        agent: false,
      },
      (res: IncomingMessage) => {
        res.resume();
        res.on('error', () => undefined);
        settle({ statusCode: res.statusCode ?? null, error: null });
        res.once('end', () => req.destroy());
      },
    );
    // Also ends a response whose body is still coming when the time is up.
    const timer = setTimeout(() => {
      settle({ statusCode: null, error: `timeout: no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.once('close', () => clearTimeout(timer));
    req.on('error', (error: NodeJS.ErrnoException) => settle({ statusCode: null, error: describe(error) }));
    req.end(body);
  });
}

/** A short, log-safe description of a connection failure: its code and message, at most 200 characters. */
function describe(error: NodeJS.ErrnoException): string {
  const text =
    error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
  return text.slice(0, 200);
}
