import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedTarget } from './url-safety';

/** What an endpoint answered: its status code, or why there was none. Bodies are never read. */
export interface PostResult {
  statusCode: number | null;
  error: string | null;
}

/** How long a kept-alive connection may sit idle: under the 5 s most servers (Node's among them) keep one. */
const IDLE_SOCKET_MS = 4000;
/** Agents kept at most; past it they are all closed and made afresh. */
const MAX_AGENTS = 1000;

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
 * POSTs webhooks. Connections are kept alive, in one agent per checked
 * address (with the host name and port): a reused connection goes to the
 * address that was checked for this attempt, like a new one.
 */
@Injectable()
export class WebhookClient implements OnApplicationShutdown {
  private readonly agents = new Map<string, HttpAgent>();

  /**
   * POSTs `body` to the checked target within `timeoutMs` (connecting
   * included). Redirects are not followed: a 3xx is answered like any
   * status. The response body is drained and thrown away.
   */
  post(
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
          agent: this.agentFor(target),
        },
        (res: IncomingMessage) => {
          res.on('error', () => undefined);
          res.once('end', () => clearTimeout(timer));
          res.resume();
          settle({ statusCode: res.statusCode ?? null, error: null });
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

  /**
   * Closes the kept-alive connections once the attempts in flight have had
   * their grace (WebhookWorker, before shutdown): Nest's module destroy
   * comes before that, and closing then would cut them off.
   */
  onApplicationShutdown(): void {
    this.closeAll();
  }

  private agentFor(target: CheckedTarget): HttpAgent {
    const key = `${target.url.protocol}//${target.hostname}:${target.url.port}@${target.address}`;
    let agent = this.agents.get(key);
    if (!agent) {
      if (this.agents.size >= MAX_AGENTS) this.closeAll();
      const options = { keepAlive: true, timeout: IDLE_SOCKET_MS };
      agent = target.url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }

  private closeAll(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

/** A short, log-safe description of a connection failure: its code and message, at most 200 characters. */
function describe(error: NodeJS.ErrnoException): string {
  const text =
    error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
  return text.slice(0, 200);
}
