import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Workspace } from './app';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request's body had arrived. */
  at: number;
}

/** How the receiver answers a request to one path: a status, after a delay, with headers. */
export interface Answer {
  status: number;
  delayMs?: number;
  headers?: Record<string, string>;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port><path>` */
  url(path: string): string;
  received: ReceivedWebhook[];
  /** Requests to `path` so far. */
  at(path: string): ReceivedWebhook[];
  /** Answers the n-th request (0-based) to `path`; 200 when no rule is set. */
  answer(path: string, rule: (n: number) => Answer): void;
  close(): Promise<void>;
}

/** A plain node:http receiver on 127.0.0.1 that records every request, body as bytes received. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const rules = new Map<string, (n: number) => Answer>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = received.filter((r) => r.path === path).length;
      received.push({
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const { status, delayMs = 0, headers = {} } = rules.get(path)?.(n) ?? { status: 200 };
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(status, headers).end('a body the sender never stores');
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    at: (path) => received.filter((r) => r.path === path),
    answer: (path, rule) => rules.set(path, rule),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Checks a request's signature twice: with the `standardwebhooks` reference
 * library (which also checks the timestamp is within 5 minutes) and by hand
 * (HMAC-SHA256 over `<id>.<timestamp>.<body>`, keyed with the base64-decoded
 * secret after `whsec_`). Throws when either fails; answers the parsed body.
 */
export function verifyWebhook(request: ReceivedWebhook, secret: string): unknown {
  const headers = {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
  const parsed = new Webhook(secret).verify(request.body, headers);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${request.body}`)
    .digest('base64');
  const given = headers['webhook-signature'].split(' ').map((part) => part.replace(/^v1,/, ''));
  if (!given.includes(expected))
    throw new Error(`hand-computed signature ${expected} not in ${headers['webhook-signature']}`);
  return parsed;
}

/** Creates an endpoint of the workspace at `url` for `message.sent`; answers its id and its secret (shown once). */
export async function subscribeWebhook(ws: Workspace, url: string): Promise<{ id: string; secret: string }> {
  const res = await ws
    .api('post', '/v1/webhooks')
    .send({ url, events: ['message.sent'] })
    .expect(201);
  return res.body.data;
}
