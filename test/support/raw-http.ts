import { request as httpRequest, Server } from 'node:http';
import type { TestApp } from './app';

export interface RawAnswer {
  status: number;
  body: unknown;
}

/** How long postUnfinished waits for an answer before it gives up (the server is waiting for the body). */
const NO_ANSWER_AFTER_MS = 10_000;

/**
 * POSTs the start of a body announced as `declaredBytes` long and never
 * sends the rest: an answer proves that the server decided without reading,
 * let alone parsing, the body. A server that waits for the body gets no
 * answer: after NO_ANSWER_AFTER_MS the request is dropped and the result is
 * status 0.
 */
export function postUnfinished(
  port: number,
  path: string,
  headers: Record<string, string>,
  start: string,
  declaredBytes: number,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': String(declaredBytes),
        ...headers,
      },
    });
    const noAnswer = setTimeout(() => {
      resolve({ status: 0, body: 'no answer before the body was sent' });
      req.destroy();
    }, NO_ANSWER_AFTER_MS);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        clearTimeout(noAnswer);
        resolve({ status: res.statusCode!, body: JSON.parse(text) });
        req.destroy();
      });
    });
    req.on('error', (error) => {
      clearTimeout(noAnswer);
      reject(error);
    });
    req.write(start);
  });
}

/** Makes the test app listen on a port of its own (supertest uses it too). */
export async function listen(t: TestApp): Promise<number> {
  const server = t.app.getHttpServer() as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** POSTs `body` with chunked transfer encoding (no Content-Length), so the server only learns its size by reading. */
export function postChunked(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path,
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', ...headers },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
