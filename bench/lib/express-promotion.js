'use strict';
/**
 * The tenth round's reproduction (bench/README.md): how much a small HTTP
 * server promotes to V8's old generation per request, with and without
 * Express setting the prototypes of live requests. Each variant runs in a
 * child process of its own, loaded by autocannon in that process (32
 * connections, the bench's 4-recipient body, a 15 ms wait per request as if
 * for the insert), and prints its requests/s, p99 and old-space growth
 * across scavenges per request.
 *
 * CLI: node bench/lib/express-promotion.js [seconds=10]
 */
const { execFileSync } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const v8 = require('node:v8');

const ROOT = path.resolve(__dirname, '..', '..');
const requireFromRoot = (name) => require(require.resolve(name, { paths: [ROOT] }));

const VARIANTS = {
  'node:http': () => http.createServer(readByHand),
  'node:http, setPrototypeOf(res)': () => {
    const prototype = Object.create(http.ServerResponse.prototype);
    return http.createServer((req, res) => {
      Object.setPrototypeOf(res, prototype);
      readByHand(req, res);
    });
  },
  'Express, 8 middlewares and express.json()': () => http.createServer(expressApp()),
  'Express, the same, requests born with its prototypes': () => {
    const app = expressApp();
    class AppRequest extends http.IncomingMessage {}
    class AppResponse extends http.ServerResponse {}
    for (const [own, name] of [
      [AppRequest.prototype, 'request'],
      [AppResponse.prototype, 'response'],
    ]) {
      Object.setPrototypeOf(own, Object.getPrototypeOf(app[name]));
      Object.defineProperty(own, 'app', { configurable: true, enumerable: true, writable: true, value: app });
      app[name] = own;
    }
    return http.createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
  },
};

const BODY = JSON.stringify({
  from: 'sender@bench.test',
  to: ['customer0@example.test', 'customer1@example.test', 'customer2@example.test'],
  bcc: ['customer3@example.test'],
  subject: 'Your sign-in code',
  text: 'Your sign-in code is 123456. It expires in 10 minutes. If you did not ask for it, ignore this email.',
});
const insert = () => new Promise((resolve) => setTimeout(resolve, 15));
const answer = (to) => JSON.stringify({ accepted: true, message_count: to.length });

function readByHand(req, res) {
  let data = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (data += chunk));
  req.on('end', async () => {
    const { to } = JSON.parse(data);
    await insert();
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end(answer(to));
  });
}

function expressApp() {
  const express = requireFromRoot('express');
  const app = express();
  for (let i = 0; i < 8; i++) {
    app.use((req, _res, next) => {
      req[`step${i}`] = i;
      next();
    });
  }
  app.use(express.json());
  app.post('/v1/emails', async (req, res) => {
    await insert();
    res.status(202).json(JSON.parse(answer(req.body.to)));
  });
  return app;
}

async function runVariant(name, seconds) {
  const server = VARIANTS[name]();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const profiler = new v8.GCProfiler();
  profiler.start();
  const result = await requireFromRoot('autocannon')({
    url: `http://127.0.0.1:${server.address().port}/v1/emails`,
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json' },
    connections: 32,
    duration: seconds,
  });
  const oldSpace = (stats) =>
    stats.heapSpaceStatistics.find((s) => s.spaceName === 'old_space').spaceUsedSize;
  let promoted = 0;
  for (const gc of profiler.stop().statistics) {
    if (gc.gcType === 'Scavenge') promoted += oldSpace(gc.afterGC) - oldSpace(gc.beforeGC);
  }
  server.close();
  const requests = result.requests.total;
  const ok = result['2xx'] === requests && result.errors === 0;
  return `${name}: ${result.requests.average} req/s, p99 ${result.latency.p99} ms, promoted ${(promoted / requests / 1e3).toFixed(1)} kB/request${ok ? '' : ' (NOT ALL 2xx)'}`;
}

if (process.argv[2] === '--variant') {
  runVariant(process.argv[3], Number(process.argv[4])).then((line) => console.log(line));
} else {
  const seconds = String(Number(process.argv[2] || 10));
  for (const name of Object.keys(VARIANTS)) {
    process.stdout.write(execFileSync(process.execPath, [__filename, '--variant', name, seconds]));
  }
}
