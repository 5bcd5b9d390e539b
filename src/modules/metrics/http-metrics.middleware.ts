import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { MetricsService } from './metrics.service';

/** The `route` label of a request that matches no route: its path never becomes a label. */
export const UNMATCHED_ROUTE = 'unmatched';

interface RouteLayer {
  route?: { path: string };
  match(path: string): unknown;
}

/**
 * Nest mounts middleware as routes with a wildcard (`/v1{/*splat}`); a real
 * route pattern has none.
 */
const isRoutePattern = (path: unknown): path is string => typeof path === 'string' && !path.includes('*');

/**
 * The route pattern a request went to (`/v1/messages/:uuid`), never its path.
 * A request answered by a route (or by a router mounted under a path, like
 * Bull Board's) has it on `req.route`; one refused by a middleware before
 * routing (401, 429, 413) is matched against the app's routes, and that
 * costs a scan of them only on that path.
 */
export function routeLabel(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (isRoutePattern(path)) return `${req.baseUrl}${path}`;
  const url = (req.originalUrl ?? req.url).split('?', 1)[0];
  const layers = (req.app as unknown as { router?: { stack: RouteLayer[] } }).router?.stack ?? [];
  const layer = layers.find((l) => isRoutePattern(l.route?.path) && l.match(url));
  return layer?.route?.path ?? UNMATCHED_ROUTE;
}

/** Counts and times every HTTP request once its answer is sent (leadpush_http_requests_total and _duration_seconds). */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const start = performance.now();
    res.once('finish', () =>
      this.metrics.countRequest(
        req.method,
        routeLabel(req),
        res.statusCode,
        (performance.now() - start) / 1000,
      ),
    );
    next();
  }
}
