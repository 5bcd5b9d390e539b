import type { NestApplicationOptions } from '@nestjs/common';
import type express from 'express';
import type { AddressInfo } from 'node:net';
import { Agent, get, IncomingMessage, Server, ServerResponse } from 'node:http';
import request from 'supertest';
import { HttpAdapter } from './http-adapter';

describe('HttpAdapter', () => {
  let adapter: HttpAdapter;
  let server: Server;
  let app: express.Express;

  beforeEach(() => {
    adapter = new HttpAdapter();
    adapter.initHttpServer({} as NestApplicationOptions);
    server = adapter.getHttpServer() as Server;
    app = adapter.getInstance<express.Express>();
  });

  afterEach(
    () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  );

  it("creates each request and response with the Express app's prototypes, before Express sees them", async () => {
    const arrived: [object | null, object | null][] = [];
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      arrived.push([Object.getPrototypeOf(req), Object.getPrototypeOf(res)]);
    });
    app.get('/echo', (req, res) => {
      res.status(201).json({
        accept: req.get('accept'),
        app: req.app === app && res.app === app,
        instance: req instanceof IncomingMessage && res instanceof ServerResponse,
        query: req.query,
      });
    });

    const res = await request(server).get('/echo?a=1').set('Accept', 'application/json');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ accept: 'application/json', app: true, instance: true, query: { a: '1' } });
    expect(arrived).toEqual([[app.request, app.response]]);
  });

  it('serves over keep-alive connections, one request after another', async () => {
    app.get('/n/:n', (req, res) => {
      res.json({ n: Number(req.params.n) });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    server.on('connection', (socket) => sockets.add(socket));
    try {
      for (let n = 0; n < 3; n++) {
        const res = await fetchJson(`http://127.0.0.1:${port}/n/${n}`, agent);
        expect(res).toEqual({ n });
      }
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

function fetchJson(url: string, agent: Agent): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}
