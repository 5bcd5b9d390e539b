import type { INestApplicationContext } from '@nestjs/common';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AllExceptionsFilter, NotFoundError } from '@app/common';
import { HealthService } from './modules/health/health.service';
import { MetricsService } from './modules/metrics/metrics.service';

/**
 * The HTTP side of an APP_ROLE=worker process (SPEC §2): `GET /health` for
 * liveness probes and `GET /metrics` for scraping, on PORT, and nothing else
 * (no API route, no docs); errors in the SPEC §3 envelope. A plain node:http
 * server, so a worker does not load Express and the API's routes.
 */
export async function listenForProbes(app: INestApplicationContext, port: number): Promise<Server> {
  const health = app.get(HealthService);
  const metrics = app.get(MetricsService);
  const errors = new AllExceptionsFilter();

  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }).end(body);
  };
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const path = (req.url ?? '/').split('?', 1)[0].replace(/(.)\/$/, '$1');
      if (req.method === 'GET' && path === '/health') {
        send(res, 200, 'application/json; charset=utf-8', JSON.stringify(await health.check()));
      } else if (req.method === 'GET' && path === '/metrics') {
        metrics.authorize(req.headers.authorization);
        send(res, 200, metrics.contentType, await metrics.render());
      } else {
        throw new NotFoundError('Route');
      }
    } catch (error) {
      const { status, body, headers } = errors.toEnvelope(error);
      for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
      send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
    }
  };

  const server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return server;
}
