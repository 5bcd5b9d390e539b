#!/usr/bin/env node
/**
 * What the metrics add to each API request, measured alone (no I/O): the
 * work HttpMetricsMiddleware does for one request (a clock read, a `finish`
 * listener, the route label, the request counter and the duration
 * histogram) and the accepted-messages counter of a send. `npm run build`
 * first; `node bench/metrics-cost.js`. Compare the µs it prints with the
 * server CPU per request of `npm run bench` (about 1 ms).
 */
const { EventEmitter } = require('node:events');
const { performance } = require('node:perf_hooks');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'src', 'modules', 'metrics');
const { MetricsService } = require(path.join(dist, 'metrics.service.js'));
const { routeLabel } = require(path.join(dist, 'http-metrics.middleware.js'));

const metrics = new MetricsService({ metricsToken: 'bench' }, { subscribe() {} }, { read: async () => [] });
const req = { method: 'POST', baseUrl: '', route: { path: '/v1/emails' } };
const REQUESTS = 1_000_000;

for (let round = 1; round <= 3; round++) {
  const began = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const res = new EventEmitter();
    res.statusCode = 202;
    const start = performance.now();
    res.once('finish', () =>
      metrics.countRequest(req.method, routeLabel(req), res.statusCode, (performance.now() - start) / 1000),
    );
    res.emit('finish');
    metrics.countAccepted('api', 4);
  }
  const micros = ((performance.now() - began) * 1000) / REQUESTS;
  console.log(`round ${round}: ${micros.toFixed(2)} µs per request`);
}
