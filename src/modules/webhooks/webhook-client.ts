import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { LookupFunction } from 'node:net';
import { Pool } from 'undici';
import type { CheckedTarget } from './url-safety';

/** What an endpoint answered: its status code, or why there was none. Bodies are never read. */
export interface PostResult {
  statusCode: number | null;
  error: string | null;
}

/** How long a kept-alive connection may sit idle: under the 5 s most servers (Node's among them) keep one. */
const IDLE_SOCKET_MS = 4000;
/** Response bytes read and thrown away; past it the connection is closed instead. */
const DRAIN_LIMIT = 64 * 1024;
/** Connection pools kept at most; past it they are all closed and made afresh. */
const MAX_POOLS = 1000;

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
 * POSTs webhooks with undici (about half the CPU of node:http per request,
 * on the event loop that also claims and settles). Connections are kept
 * alive, in one pool per checked address (with the URL's origin): a reused
 * connection goes to the address that was checked for this attempt, like a
 * new one. The Host header and the TLS server name are the URL's host.
 */
@Injectable()
export class WebhookClient implements OnApplicationShutdown {
  private readonly pools = new Map<string, Pool>();

  /**
   * POSTs `body` to the checked target within `timeoutMs` (connecting
   * included). Redirects are not followed: a 3xx is answered like any
   * status. The response body is drained and thrown away.
   */
  async post(
    target: CheckedTarget,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<PostResult> {
    const { url } = target;
    const abort = new AbortController();
    // Also ends a response whose body is still coming when the time is up.
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await this.poolFor(target, timeoutMs).request({
        method: 'POST',
        path: `${url.pathname}${url.search}`,
        headers: url.username ? { ...headers, authorization: basicAuth(url) } : headers,
        body,
        signal: abort.signal,
      });
      response.body.on('error', () => undefined);
      void response.body.dump({ limit: DRAIN_LIMIT, signal: abort.signal }).then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
      return { statusCode: response.statusCode, error: null };
    } catch (error) {
      clearTimeout(timer);
      if (abort.signal.aborted)
        return { statusCode: null, error: `timeout: no answer within ${timeoutMs} ms` };
      return { statusCode: null, error: describe(error as NodeJS.ErrnoException) };
    }
  }

  /**
   * Closes the kept-alive connections once the attempts in flight have had
   * their grace (WebhookWorker, before shutdown): Nest's module destroy
   * comes before that, and closing then would cut them off.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }

  private poolFor(target: CheckedTarget, timeoutMs: number): Pool {
    const key = `${target.url.origin}@${target.address}`;
    let pool = this.pools.get(key);
    if (!pool) {
      if (this.pools.size >= MAX_POOLS) void this.closeAll();
      pool = new Pool(target.url.origin, {
        keepAliveTimeout: IDLE_SOCKET_MS,
        connect: { lookup: pinnedLookup(target.address, target.family), timeout: timeoutMs },
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  private async closeAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}

/** The Authorization header of a URL with credentials (`https://user:pass@host/…`). */
function basicAuth(url: URL): string {
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** A short, log-safe description of a connection failure: its code and message, at most 200 characters. */
function describe(error: NodeJS.ErrnoException): string {
  const text =
    error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
  return text.slice(0, 200);
}
