'use strict';
/**
 * `npm run bench`: Leadpush's performance benchmark. See bench/README.md.
 *
 * 0. builds (npm run build), creates its own database leadpush_bench_<random>
 *    and Redis prefix, starts a counting SMTP sink;
 * 1. starts the app (APP_ROLE=api) and bootstraps a user/workspace/key/verified domain/sender;
 * 2. API phase: autocannon POST /v1/emails (4 recipients) against the app;
 *    SMTP phase: the same message (4 envelope recipients) through the SMTP relay
 *    over BENCH_SMTP_CONNECTIONS connections (nodemailer's pool);
 * 3. baseline phase: the same load against bench/baseline/server.js (node:http + pg + bull);
 * 4. delivery phase: queues BENCH_MESSAGES messages through the API, then starts
 *    an APP_ROLE=worker process and measures messages/s until all are sent;
 *    webhooks phase: the same with a webhook endpoint (a counting receiver in
 *    this process) subscribed to BENCH_WEBHOOK_EVENTS, its attempts made by a
 *    worker of their own (BENCH_WEBHOOK_WORKER): messages/s next to the
 *    delivery phase's, and webhook deliveries/s of the same run;
 * 5. prints a table with targets, writes bench/results.json;
 * 6. always cleans up: children, sink, database, Redis keys (also on Ctrl-C).
 *
 * Plain CommonJS on purpose: runs with `node bench/run.js`, no TS loader.
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

const ROOT = path.resolve(__dirname, '..');
// The app runs from a private copy of dist/ taken right after the build: other
// builds (npm test rebuilds dist/ with deleteOutDir) cannot pull it away mid-run.
const SNAPSHOT = path.join(os.tmpdir(), `leadpush-bench-${process.pid}-${Date.now().toString(36)}`);
const MAIN = path.join(SNAPSHOT, 'dist', 'src', 'main.js');
const BASELINE = path.join(__dirname, 'baseline', 'server.js');
const PROFILE_DIR = path.join(__dirname, 'profiles');
const requireFromRoot = (id) => require(require.resolve(id, { paths: [ROOT] }));
const autocannon = requireFromRoot('autocannon');
const { Client } = requireFromRoot('pg');
const Redis = requireFromRoot('ioredis');
const { startCountingSink } = require('./lib/smtp-sink');
const { startWebhookReceiver } = require('./lib/webhook-receiver');
const cpuprofile = require('./lib/cpuprofile');

// ---------------------------------------------------------------- settings

function intEnv(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

const PHASES = ['api', 'smtp', 'baseline', 'baseline-app-sql', 'delivery', 'webhooks', 'e2e'];
const DEFAULT_PHASES = ['api', 'smtp', 'baseline', 'delivery', 'webhooks', 'e2e'];
const cpuProf = (process.env.BENCH_CPU_PROF || '').trim();
const httpConnections = intEnv('BENCH_CONNECTIONS', 32);
const settings = {
  durationSec: intEnv('BENCH_DURATION', 20),
  connections: httpConnections,
  // The two doors are compared at the same number of clients.
  smtpConnections: intEnv('BENCH_SMTP_CONNECTIONS', httpConnections),
  warmupSec: intEnv('BENCH_WARMUP', 3, 0),
  messages: intEnv('BENCH_MESSAGES', 20000),
  deliveryConcurrency: intEnv('BENCH_DELIVERY_CONCURRENCY', 50),
  deliveryTimeoutSec: intEnv('BENCH_DELIVERY_TIMEOUT', 600),
  webhookEvents: (process.env.BENCH_WEBHOOK_EVENTS || 'message.sent')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  // own: the webhooks phase runs a WORKER_QUEUES=webhooks process beside the delivery worker; same: one worker does both.
  webhookWorker: process.env.BENCH_WEBHOOK_WORKER || 'own',
  phases: (process.env.BENCH_PHASES || DEFAULT_PHASES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  build: process.env.BENCH_SKIP_BUILD !== '1',
  // BENCH_CPU_PROF=1 (or api): profile the app of the API phase; worker: the delivery worker (and the
  // webhooks phase's webhook worker);
  // baseline: the baseline server; all: all three.
  cpuProfApi: ['1', 'api', 'all'].includes(cpuProf),
  cpuProfWorker: ['worker', 'all'].includes(cpuProf),
  cpuProfBaseline: ['baseline', 'all'].includes(cpuProf),
  pgUrl: process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
  strict: process.env.BENCH_STRICT === '1',
  // BENCH_METRICS=1: the app processes run with METRICS_TOKEN set (GET /metrics on, every request measured).
  metrics: process.env.BENCH_METRICS === '1',
  // The app processes run with the node flags of `npm run start:prod` (as in production), or BENCH_NODE_ARGS.
  nodeArgs:
    process.env.BENCH_NODE_ARGS !== undefined ? splitArgs(process.env.BENCH_NODE_ARGS) : startProdNodeArgs(),
};
if (cpuProf && !['1', 'api', 'worker', 'baseline', 'all'].includes(cpuProf)) {
  throw new Error(`BENCH_CPU_PROF must be 1, api, worker, baseline or all, got "${cpuProf}"`);
}
if (!['own', 'same'].includes(settings.webhookWorker)) {
  throw new Error(`BENCH_WEBHOOK_WORKER must be own or same, got "${settings.webhookWorker}"`);
}
for (const phase of settings.phases) {
  if (!PHASES.includes(phase))
    throw new Error(`BENCH_PHASES: unknown phase "${phase}" (use ${PHASES.join(', ')})`);
}
const profiling = settings.cpuProfApi || settings.cpuProfWorker || settings.cpuProfBaseline;
const RESULTS_FILE = profiling
  ? path.join(PROFILE_DIR, 'results.json')
  : path.join(__dirname, 'results.json');

const TARGETS = {
  apiVsBaselineReqPerSec: 1.0, // API req/s >= the baseline's
  apiVsBaselineP99: 1.0, // API p99 <= the baseline's p99
  deliveryMsgPerSec: 1000, // one worker, first 'sending' to last 'sent'
  deliveryWhileAcceptingMsgPerSec: 700, // first accept to last 'sent', the API accepting meanwhile
  deliveryWithWebhooksVsWithout: 0.9, // delivery msg/s with a webhook endpoint >= 90 % of without
  smtpVsApiMessagesPerSec: 0.8, // SMTP relay messages/s >= 80 % of the HTTP API's
  peakRssMb: 200,
};

const RUN_ID = crypto.randomBytes(4).toString('hex');
const DB_NAME = `leadpush_bench_${RUN_ID}`;
const QUEUE_PREFIX = `leadpush_bench_${RUN_ID}`;
const BASELINE_PREFIX = `${QUEUE_PREFIX}_baseline`;
const ADMIN_TOKEN = `bench-admin-${crypto.randomBytes(12).toString('hex')}`;
const DKIM_ENCRYPTION_KEY = crypto.randomBytes(32).toString('hex');
const METRICS_TOKEN = `bench-metrics-${crypto.randomBytes(12).toString('hex')}`;
const dbUrl = (() => {
  const url = new URL(settings.pgUrl);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
})();

const SENDER = 'sender@bench.test';
/** The API and baseline phases send this body: 4 recipients (3 to, 1 bcc). */
function emailBody(recipients = 4, salt = '') {
  const all = Array.from({ length: recipients }, (_, i) => `customer${i}${salt}@example.test`);
  return JSON.stringify({
    from: SENDER,
    to: all.slice(0, Math.min(3, recipients)),
    bcc: all.slice(Math.min(3, recipients)),
    subject: 'Your sign-in code',
    text: 'Your sign-in code is 123456. It expires in 10 minutes. If you did not ask for it, ignore this email.',
    html:
      '<!doctype html><html><body><p>Your sign-in code is <b>123456</b>.</p>' +
      '<p>It expires in 10 minutes. If you did not ask for it, ignore this email.</p></body></html>',
  });
}

/** The SMTP phase sends this message: what emailBody says, as a mailer writes it; 3 of its 4 envelope recipients in To. */
function smtpMessage() {
  const recipients = Array.from({ length: 4 }, (_, i) => `customer${i}@example.test`);
  const raw = [
    `From: "Bench" <${SENDER}>`,
    `To: ${recipients.slice(0, 3).join(', ')}`,
    'Subject: Your sign-in code',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Your sign-in code is 123456. It expires in 10 minutes. If you did not ask for it, ignore this email.',
    '',
  ].join('\r\n');
  return { envelope: { from: SENDER, to: recipients }, raw };
}

// ---------------------------------------------------------------- logging

const t0 = Date.now();
function log(message) {
  process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);
}
const mb = (kb) => Math.round(kb / 102.4) / 10;
const round = (x, digits = 1) =>
  x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------- cleanup

const cleanups = [];
const children = new Set();
let cleaning = null;
/** Registers a cleanup step; they run in reverse order, once, each guarded. */
function onCleanup(name, fn) {
  cleanups.push({ name, fn });
}
function cleanup() {
  if (!cleaning) {
    cleaning = (async () => {
      for (const { name, fn } of cleanups.reverse()) {
        try {
          await Promise.race([fn(), sleep(20_000).then(() => Promise.reject(new Error('timed out')))]);
        } catch (error) {
          log(`cleanup "${name}" failed: ${error.message}`);
        }
      }
    })();
  }
  return cleaning;
}
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) {
      // Second Ctrl-C: give up on graceful cleanup, but never leave children behind.
      for (const child of children) child.kill('SIGKILL');
      process.exit(130);
    }
    interrupted = true;
    log(`${signal}: cleaning up (press Ctrl-C again to force)`);
    cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
function checkInterrupted() {
  if (interrupted) throw new Error('interrupted');
}

// ---------------------------------------------------------------- processes

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns a long-running child, keeps the tail of its output, and knows how to stop it. */
function startChild(name, args, env, { cwd = ROOT } = {}) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines = [];
  let partial = '';
  let lineCount = 0;
  const onChunk = (chunk) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop();
    for (const line of parts) {
      lineCount += 1;
      lines.push(line);
      if (lines.length > 200) lines.shift();
    }
  };
  child.stdout.on('data', onChunk);
  child.stderr.on('data', onChunk);
  let exit = null;
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      exit = { code, signal };
      resolve(exit);
    }),
  );
  const handle = {
    name,
    child,
    pid: child.pid,
    exited,
    get exit() {
      return exit;
    },
    lineCount: () => lineCount,
    tail: (n = 30) => lines.slice(-n).join('\n'),
    output: () => lines.join('\n') + (partial ? `\n${partial}` : ''),
    async stop(graceMs = 15_000) {
      if (exit) return exit;
      child.kill('SIGTERM');
      const done = await Promise.race([exited, sleep(graceMs).then(() => null)]);
      if (done) return done;
      log(`${name} did not stop within ${graceMs} ms: SIGKILL`);
      child.kill('SIGKILL');
      return exited;
    },
  };
  onCleanup(`stop ${name}`, () => handle.stop(5_000));
  return handle;
}

function appEnv(role, port, sinkUrl, extra = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_PATH: path.join(ROOT, 'node_modules'), // the snapshot lives outside the repo
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    APP_ROLE: role,
    DATABASE_URL: dbUrl,
    REDIS_URL: settings.redisUrl,
    QUEUE_PREFIX,
    SMTP_URL: sinkUrl,
    ADMIN_TOKEN,
    DKIM_ENCRYPTION_KEY,
    RATE_LIMIT_RPS: '0',
    ...(settings.metrics ? { METRICS_TOKEN } : {}),
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    ...extra,
  };
}

async function waitHealthy(proc, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    checkInterrupted();
    if (proc.exit)
      throw new Error(`${proc.name} exited early (${JSON.stringify(proc.exit)}):\n${proc.tail()}`);
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })
      .then((res) => res.status === 200)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`${proc.name} not healthy after ${timeoutMs} ms:\n${proc.tail()}`);
    await sleep(100);
  }
}

function splitArgs(text) {
  return text.split(/\s+/).filter(Boolean);
}

/** The node flags of package.json's `start:prod` (`node <flags> dist/src/main.js`), the production command. */
function startProdNodeArgs() {
  const command = require(path.join(ROOT, 'package.json')).scripts['start:prod'];
  const words = splitArgs(command);
  if (words[0] !== 'node' || words[words.length - 1] !== 'dist/src/main.js') {
    throw new Error(`start:prod is not "node <flags> dist/src/main.js": ${command}`);
  }
  return words.slice(1, -1);
}

function profileArgs(enabled) {
  if (!enabled) return [];
  fs.mkdirSync(PROFILE_DIR, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`];
}

async function startApp(role, sinkUrl, { profile = false, extraEnv = {} } = {}) {
  const port = await freePort();
  const startedAt = Date.now();
  const args = [...settings.nodeArgs, ...profileArgs(profile), MAIN];
  const proc = startChild(`app (${role})`, args, appEnv(role, port, sinkUrl, extraEnv));
  proc.url = `http://127.0.0.1:${port}`;
  proc.startedAt = startedAt;
  if (role !== 'worker') {
    await waitHealthy(proc, proc.url);
    log(`${proc.name} pid ${proc.pid} healthy on ${proc.url} after ${Date.now() - startedAt} ms`);
  } else {
    log(`${proc.name} pid ${proc.pid} started`);
  }
  return proc;
}

/** Newest .cpuprofile written after `since`, summarized. */
function readProfile(since, window) {
  if (!fs.existsSync(PROFILE_DIR)) return null;
  const files = fs
    .readdirSync(PROFILE_DIR)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(PROFILE_DIR, f))
    .filter((f) => fs.statSync(f).mtimeMs >= since)
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (files.length === 0) return null;
  try {
    return cpuprofile.summarize(files[0], 10, window);
  } catch (error) {
    log(`could not summarize ${files[0]}: ${error.message}`);
    return null;
  }
}

// ---------------------------------------------------------------- /proc sampling

function readStatus(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => {
      const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
      return m ? Number(m[1]) : null;
    };
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

function cpuTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return null;
  }
}

function systemTicks() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] || 0);
  return { total: v.reduce((a, b) => a + b, 0), idle };
}
const CLK_TCK = 100; // Linux USER_HZ

/** Polls VmRSS/VmHWM of a process every 200 ms; `stop()` reads VmHWM once more. */
function memoryMonitor(pid) {
  let peakRssKb = 0;
  let lastHwmKb = 0;
  let firstRssKb = null;
  let samples = 0;
  const timeline = []; // RSS once a second: a steady climb under constant load hints at a leak
  const sample = () => {
    const s = readStatus(pid);
    if (!s) return;
    firstRssKb ??= s.rssKb;
    if (samples++ % 5 === 0 && s.rssKb) timeline.push(mb(s.rssKb));
    if (s.rssKb) peakRssKb = Math.max(peakRssKb, s.rssKb);
    if (s.hwmKb) lastHwmKb = Math.max(lastHwmKb, s.hwmKb);
  };
  sample();
  const timer = setInterval(sample, 200);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return { peakRssMb: mb(peakRssKb), hwmMb: mb(lastHwmKb), rssAtStartMb: mb(firstRssKb ?? 0), timeline };
    },
  };
}

/** CPU ticks per pid of every process whose command name matches (postgres backends, redis-server). */
function ticksByName(re) {
  const out = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!re.test(comm)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(entry, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}
function groupDelta(before, after) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks;
}

/**
 * CPU used between start and stop, in cores: by the process under test, by
 * PostgreSQL (all its processes), by Redis, by this script (autocannon, sink),
 * and how busy the whole machine was.
 */
function cpuMeter(pid) {
  const snap = () => ({
    proc: cpuTicks(pid),
    pg: ticksByName(/^postgres/),
    redis: ticksByName(/^redis-server/),
    self: process.cpuUsage(),
    sys: systemTicks(),
    at: Date.now(),
  });
  const a = snap();
  return {
    stop() {
      const b = snap();
      const seconds = (b.at - a.at) / 1000;
      const total = b.sys.total - a.sys.total;
      const cores = (ticks) => round(ticks / CLK_TCK / seconds, 2);
      const self = process.cpuUsage(a.self);
      const out = {
        processCores: a.proc === null || b.proc === null ? null : cores(b.proc - a.proc),
        postgresCores: cores(groupDelta(a.pg, b.pg)),
        redisCores: cores(groupDelta(a.redis, b.redis)),
        benchScriptCores: round((self.user + self.system) / 1e6 / seconds, 2),
        machineBusyPct: total > 0 ? round((100 * (total - (b.sys.idle - a.sys.idle))) / total, 0) : null,
        cpuSeconds: round(seconds, 2),
      };
      // Everything else: other people's processes, and kernel time no process is charged for.
      out.otherCores = round(
        ((out.machineBusyPct ?? 0) * os.cpus().length) / 100 -
          (out.processCores ?? 0) -
          out.postgresCores -
          out.redisCores -
          out.benchScriptCores,
        2,
      );
      return out;
    },
  };
}

// ---------------------------------------------------------------- HTTP helpers

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function request(method, url, { token, body, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode, json, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

async function expectStatus(method, url, opts, status) {
  const res = await request(method, url, opts);
  if (res.status !== status) {
    throw new Error(
      `${method} ${new URL(url).pathname} answered ${res.status}, expected ${status}: ${res.text.slice(0, 500)}`,
    );
  }
  return res.json;
}

/** The README's bootstrap, through the HTTP API: user, workspace, API key, verified domain, sender address. */
async function bootstrap(apiUrl) {
  const admin = { token: ADMIN_TOKEN };
  const user = await expectStatus(
    'POST',
    `${apiUrl}/admin/v1/users`,
    {
      ...admin,
      body: {
        email: 'owner@bench.test',
        name: 'Bench Owner',
        email_verified: true,
        features: { 'smtp.enabled': true },
      },
    },
    201,
  );
  const workspace = await expectStatus(
    'POST',
    `${apiUrl}/admin/v1/workspaces`,
    { ...admin, body: { name: 'Bench', owner_id: user.data.id } },
    201,
  );
  const key = await expectStatus(
    'POST',
    `${apiUrl}/admin/v1/workspaces/${workspace.data.id}/api-keys`,
    { ...admin, body: { name: 'bench' } },
    201,
  );
  const token = key.data.token;
  const domain = await expectStatus(
    'POST',
    `${apiUrl}/v1/domains`,
    { token, body: { name: 'bench.test' } },
    201,
  );
  await expectStatus('POST', `${apiUrl}/admin/v1/domains/${domain.data.id}/verify`, admin, 200);
  const address = await expectStatus(
    'POST',
    `${apiUrl}/v1/addresses`,
    { token, body: { email: SENDER, name: 'Bench' } },
    201,
  );
  if (address.data.sendable !== true)
    throw new Error(`sender address is not sendable: ${JSON.stringify(address.data)}`);
  return { token, workspaceId: workspace.data.id, domainId: domain.data.id };
}

/** One request before the load: fail fast with the server's answer instead of 20 s of non-2xx. */
async function probeSend(url, token, recipients = 4) {
  const res = await request('POST', `${url}/v1/emails`, { token, body: emailBody(recipients) });
  if (res.status !== 202 || res.json?.data?.message_count !== recipients) {
    throw new Error(`POST /v1/emails answered ${res.status}: ${res.text.slice(0, 500)}`);
  }
}

// ---------------------------------------------------------------- load

/** Counters of the bench database (statements = transactions in autocommit) and of the Redis server. */
async function dbStats(ctx) {
  const { rows } = await ctx.db.query(
    `SELECT xact_commit + xact_rollback AS xacts, tup_inserted, tup_returned + tup_fetched AS tup_read
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  const info = await ctx.redis.info('stats');
  const commands = Number((info.match(/total_commands_processed:(\d+)/) || [])[1]);
  return { ...rows[0], redisCommands: commands };
}

/**
 * What one request costs the servers behind it: PostgreSQL transactions (one
 * per statement outside BEGIN), rows inserted, Redis commands (server-wide:
 * includes anyone else's traffic on that Redis, and the bench's own polling).
 */
function perRequest(a, b, requests) {
  const per = (key) => (requests > 0 ? round((Number(b[key]) - Number(a[key])) / requests, 2) : null);
  return {
    pgTransactions: per('xacts'),
    pgRowsInserted: per('tup_inserted'),
    pgRowsRead: per('tup_read'),
    redisCommands: per('redisCommands'),
  };
}

function runAutocannon(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (error, result) => (error ? reject(error) : resolve(result)));
    const abort = () => instance.stop();
    process.once('SIGINT', abort);
    instance.on('done', () => process.removeListener('SIGINT', abort));
  });
}

/** Warm-up (not measured), then the measured run; memory and CPU of `proc` sampled during both. */
async function loadPhase(ctx, name, url, token, proc) {
  const base = {
    url: `${url}/v1/emails`,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: emailBody(4),
    connections: settings.connections,
    timeout: 10,
  };
  const memory = memoryMonitor(proc.pid);
  if (settings.warmupSec > 0) {
    log(`${name}: warm-up ${settings.warmupSec} s`);
    await runAutocannon({ ...base, duration: settings.warmupSec });
    checkInterrupted();
  }
  log(`${name}: ${settings.connections} connections for ${settings.durationSec} s`);
  const db0 = await dbStats(ctx);
  const cpu = cpuMeter(proc.pid);
  const hrUs = () => Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, the clock of --cpu-prof timestamps
  const window = { startUs: hrUs() };
  const result = await runAutocannon({ ...base, duration: settings.durationSec });
  window.endUs = hrUs();
  const cpuUse = cpu.stop();
  await sleep(1100); // PostgreSQL backends flush their statistics about once a second
  const db1 = await dbStats(ctx);
  checkInterrupted();
  const mem = memory.stop();
  const out = {
    reqPerSec: round(result.requests.average, 1),
    requests: result.requests.total,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      avg: round(result.latency.average, 2),
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]),
    ),
    cpuMsPerRequest: cpuMsPerRequest(result.requests.total, cpuUse),
    peakRssMb: mem.peakRssMb,
    vmHwmMb: mem.hwmMb,
    rssBeforeLoadMb: mem.rssAtStartMb,
    rssEverySecondMb: mem.timeline,
    ...cpuUse,
    perRequest: perRequest(db0, db1, result.requests.total),
    profileWindowUs: window,
  };
  log(
    `${name}: ${out.reqPerSec} req/s, p50 ${out.latencyMs.p50} ms, p99 ${out.latencyMs.p99} ms, ` +
      `non-2xx ${out.non2xx}, errors ${out.errors}, peak RSS ${out.peakRssMb} MB; CPU cores: server ${out.processCores}, ` +
      `postgres ${out.postgresCores}, redis ${out.redisCores}, bench script ${out.benchScriptCores}, other ${out.otherCores}; machine ${out.machineBusyPct} % busy; ` +
      `CPU per request: server ${out.cpuMsPerRequest?.server} ms, postgres ${out.cpuMsPerRequest?.postgres} ms`,
  );
  return out;
}

// ---------------------------------------------------------------- database & redis

/**
 * A CHECKPOINT before each phase: PostgreSQL checkpoints when its WAL reaches
 * max_wal_size, and the writes after one carry whole pages, so without it a
 * phase pays for the WAL of the phases before it, wherever that checkpoint falls.
 */
async function checkpoint(ctx) {
  const started = performance.now();
  await ctx.db.query('CHECKPOINT');
  log(`CHECKPOINT in ${Math.round(performance.now() - started)} ms`);
}

async function pgClient(url) {
  const client = new Client({ connectionString: url });
  await client.connect();
  client.on('error', () => undefined);
  return client;
}

async function deleteRedisKeys(redis, pattern) {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

// ---------------------------------------------------------------- phases

async function apiPhase(ctx) {
  const app = await startApp('api', ctx.sink.url, { profile: settings.cpuProfApi });
  const since = Date.now();
  try {
    ctx.boot = await bootstrap(app.url);
    log(`bootstrapped workspace ${ctx.boot.workspaceId}, domain bench.test verified, sender ${SENDER}`);
    await probeSend(app.url, ctx.boot.token);
    const result = await loadPhase(ctx, 'API', app.url, ctx.boot.token, app);
    ctx.apiWindow = result.profileWindowUs;
    if (settings.metrics) result.metricsRequestsCounted = await countedRequests(app.url);
    result.appLogLines = app.lineCount();
    if (app.lineCount() > 0) result.appLogTail = app.tail(5);
    return result;
  } finally {
    await app.stop();
    if (settings.cpuProfApi) {
      // Only the samples of the measured run (not start-up, bootstrap, warm-up).
      ctx.profiles.api = readProfile(since, ctx.apiWindow);
      if (ctx.profiles.api) log(`CPU profile of the API phase:\n${cpuprofile.format(ctx.profiles.api)}`);
      else log('no CPU profile found for the API phase');
    }
    // The worker must find only the delivery phase's messages: drop the API phase's
    // messages (and queued jobs) now that nothing writes to them.
    await ctx.db
      .query('TRUNCATE email_requests, messages, message_events CASCADE')
      .catch((error) => log(`truncate failed: ${error.message}`));
    await deleteRedisKeys(ctx.redis, `${QUEUE_PREFIX}:*`);
  }
}

/** With BENCH_METRICS: the app's own count of its 202s to POST /v1/emails, proof that it measured the load. */
async function countedRequests(url) {
  const res = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  const line = (await res.text())
    .split('\n')
    .find(
      (l) =>
        l.startsWith('leadpush_http_requests_total{') &&
        l.includes('route="/v1/emails"') &&
        l.includes('status="202"'),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Percentile `p` (0-100) of sorted numbers. */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Sends the SMTP phase's message over a pool of `connections` authenticated
 * connections for `seconds`, each connection one transaction after the other;
 * answers each transaction's milliseconds and the failures.
 */
function relayTransport(port, token, connections) {
  return requireFromRoot('nodemailer').createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    auth: { user: 'bench', pass: token },
    pool: true,
    maxConnections: connections,
    maxMessages: Infinity,
  });
}

/** One message before the load: fail fast with the relay's answer. */
async function smtpProbe(port, token) {
  const transport = relayTransport(port, token, 1);
  try {
    const info = await transport.sendMail(smtpMessage());
    if (!/^250 /.test(info.response)) throw new Error(`SMTP relay answered ${info.response}`);
  } finally {
    transport.close();
  }
}

async function smtpLoad(port, token, connections, seconds) {
  const transport = relayTransport(port, token, connections);
  const message = smtpMessage();
  const latencies = [];
  let errors = 0;
  let firstError = null;
  const deadline = Date.now() + seconds * 1000;
  const loop = async () => {
    while (Date.now() < deadline && !interrupted) {
      const started = performance.now();
      try {
        await transport.sendMail(message);
        latencies.push(performance.now() - started);
      } catch (error) {
        errors += 1;
        firstError ??= String(error.message || error);
      }
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  const elapsedSec = (performance.now() - startedAt) / 1000;
  transport.close();
  return { latencies, errors, firstError, elapsedSec };
}

async function smtpPhase(ctx) {
  const relayPort = await freePort();
  const app = await startApp('api', ctx.sink.url, { extraEnv: { SMTP_RELAY_PORT: String(relayPort) } });
  try {
    if (!ctx.boot) {
      ctx.boot = await bootstrap(app.url);
      log(`bootstrapped workspace ${ctx.boot.workspaceId}`);
    }
    await smtpProbe(relayPort, ctx.boot.token);
    const memory = memoryMonitor(app.pid);
    if (settings.warmupSec > 0) {
      log(`SMTP: warm-up ${settings.warmupSec} s`);
      await smtpLoad(relayPort, ctx.boot.token, settings.smtpConnections, settings.warmupSec);
      checkInterrupted();
    }
    log(`SMTP: ${settings.smtpConnections} connections for ${settings.durationSec} s`);
    const db0 = await dbStats(ctx);
    const cpu = cpuMeter(app.pid);
    const run = await smtpLoad(relayPort, ctx.boot.token, settings.smtpConnections, settings.durationSec);
    const cpuUse = cpu.stop();
    await sleep(1100); // PostgreSQL backends flush their statistics about once a second
    const db1 = await dbStats(ctx);
    checkInterrupted();
    const mem = memory.stop();
    const sorted = [...run.latencies].sort((a, b) => a - b);
    const out = {
      connections: settings.smtpConnections,
      transactionsPerSec: round(run.latencies.length / run.elapsedSec, 1),
      msgPerSec: round((4 * run.latencies.length) / run.elapsedSec, 1),
      transactions: run.latencies.length,
      latencyMs: { p50: round(percentile(sorted, 50), 1), p99: round(percentile(sorted, 99), 1) },
      errors: run.errors,
      firstError: run.firstError,
      peakRssMb: mem.peakRssMb,
      ...cpuUse,
      perRequest: perRequest(db0, db1, run.latencies.length),
    };
    log(
      `SMTP: ${out.transactionsPerSec} transactions/s = ${out.msgPerSec} messages/s, p50 ${out.latencyMs.p50} ms, ` +
        `p99 ${out.latencyMs.p99} ms, errors ${out.errors}, peak RSS ${out.peakRssMb} MB; CPU cores: server ${out.processCores}, ` +
        `postgres ${out.postgresCores}, other ${out.otherCores}`,
    );
    return out;
  } finally {
    await app.stop();
    // As after the API phase: the delivery phase must find only its own messages.
    await ctx.db
      .query('TRUNCATE email_requests, messages, message_events CASCADE')
      .catch((error) => log(`truncate failed: ${error.message}`));
    await deleteRedisKeys(ctx.redis, `${QUEUE_PREFIX}:*`);
  }
}

async function baselinePhase(ctx, { appLookups = false } = {}) {
  const name = appLookups ? 'baseline-app-sql' : 'baseline';
  if (appLookups && !ctx.boot)
    throw new Error('baseline-app-sql needs the api phase (its workspace, domain and sender)');
  const token = `lp_baseline_${crypto.randomBytes(24).toString('base64url')}`;
  const profile = settings.cpuProfBaseline && !appLookups;
  const since = Date.now();
  const nodeArgs = splitArgs(process.env.BENCH_BASELINE_NODE_ARGS ?? '');
  const proc = startChild(name, [...profileArgs(profile), ...nodeArgs, BASELINE], {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: '0',
    DATABASE_URL: dbUrl,
    REDIS_URL: settings.redisUrl,
    QUEUE_PREFIX: BASELINE_PREFIX,
    BASELINE_TOKEN: token,
    ...(appLookups ? { BASELINE_APP_LOOKUPS: '1', BASELINE_WORKSPACE_ID: ctx.boot.workspaceId } : {}),
  });
  let result;
  try {
    const deadline = Date.now() + 30_000;
    let port = null;
    while (!port) {
      checkInterrupted();
      if (proc.exit) throw new Error(`baseline exited early:\n${proc.tail()}`);
      const m = proc.output().match(/^listening (\d+)$/m);
      if (m) port = Number(m[1]);
      else if (Date.now() > deadline) throw new Error(`baseline did not start:\n${proc.tail()}`);
      else await sleep(50);
    }
    const url = `http://127.0.0.1:${port}`;
    log(`${name} pid ${proc.pid} listening on ${url}`);
    await probeSend(url, token);
    result = await loadPhase(ctx, name, url, token, proc);
    return result;
  } finally {
    await proc.stop();
    await deleteRedisKeys(ctx.redis, `${BASELINE_PREFIX}:*`);
    if (profile) {
      ctx.profiles.baseline = readProfile(since, result?.profileWindowUs);
      if (ctx.profiles.baseline)
        log(`CPU profile of the baseline:\n${cpuprofile.format(ctx.profiles.baseline)}`);
    }
  }
}

async function queueMessages(url, token, total) {
  const perRequest = 4;
  const requests = Math.ceil(total / perRequest);
  let next = 0;
  let firstAcceptAt = null;
  let accepted = 0;
  const worker = async () => {
    while (next < requests) {
      checkInterrupted();
      const i = next++;
      const n = i === requests - 1 ? total - perRequest * (requests - 1) : perRequest;
      const res = await request('POST', `${url}/v1/emails`, { token, body: emailBody(n) });
      if (res.status !== 202)
        throw new Error(`queuing: POST /v1/emails answered ${res.status}: ${res.text.slice(0, 300)}`);
      firstAcceptAt ??= Date.now();
      accepted += res.json.data.message_count;
    }
  };
  const startedAt = Date.now();
  await Promise.all(Array.from({ length: 16 }, worker));
  return { requests, accepted, firstAcceptAt, seconds: (Date.now() - startedAt) / 1000 };
}

/**
 * With `webhooks`, the same run with one webhook endpoint subscribed to
 * BENCH_WEBHOOK_EVENTS (a counting receiver in this process), posted by a
 * worker of its own (WORKER_QUEUES=webhooks; the delivery worker runs
 * delivery,inbound) unless BENCH_WEBHOOK_WORKER=same: the phase ends when
 * every message is final and every subscribed event was posted.
 * With `whileAccepting`, the worker runs from the start while an API process
 * accepts the messages, and the rate is counted from the first accept.
 */
async function deliveryPhase(ctx, { webhooks = false, whileAccepting = false } = {}) {
  const total = settings.messages;
  const webhookEnv = webhooks ? { WEBHOOK_ALLOW_PRIVATE: 'true' } : {};
  let receiver = null;
  const { rows: tables } = await ctx.db.query(`SELECT to_regclass('email_requests') IS NOT NULL AS migrated`);
  if ((webhooks || whileAccepting) && tables[0].migrated) {
    // Only this phase's messages and endpoints: an earlier phase's are done.
    await ctx.db.query('TRUNCATE email_requests, messages, message_events, webhook_endpoints CASCADE');
    await deleteRedisKeys(ctx.redis, `${QUEUE_PREFIX}:*`);
  }
  if (webhooks) {
    receiver = await startWebhookReceiver();
    onCleanup('close webhook receiver', () => receiver.close());
  }
  // Queue through a fresh API process; without `whileAccepting`, stop it before the worker runs alone.
  const api = await startApp('api', ctx.sink.url, { extraEnv: webhookEnv });
  let queued;
  let queueing = null;
  let apiMemory = null;
  try {
    if (!ctx.boot) {
      ctx.boot = await bootstrap(api.url);
      log(`bootstrapped workspace ${ctx.boot.workspaceId}`);
    }
    if (webhooks) {
      await expectStatus(
        'POST',
        `${api.url}/v1/webhooks`,
        { token: ctx.boot.token, body: { url: receiver.url, events: settings.webhookEvents } },
        201,
      );
      log(`webhooks: endpoint ${receiver.url} subscribed to ${settings.webhookEvents.join(', ')}`);
    }
    if (!whileAccepting) {
      log(`delivery: queuing ${total} messages (${Math.ceil(total / 4)} requests x 4 recipients)`);
      queued = await queueMessages(api.url, ctx.boot.token, total);
      log(`delivery: ${queued.accepted} messages accepted in ${queued.seconds.toFixed(1)} s`);
    }
  } finally {
    if (!whileAccepting) await api.stop();
  }
  if (!whileAccepting) {
    const { rows: pending } = await ctx.db.query(
      `SELECT count(*)::int AS n FROM messages WHERE status = 'pending'`,
    );
    if (pending[0].n !== total)
      throw new Error(`expected ${total} pending messages before the worker starts, found ${pending[0].n}`);
    const jobs = await ctx.redis.llen(`${QUEUE_PREFIX}:delivery:wait`);
    log(`delivery: ${pending[0].n} pending messages, ${jobs} jobs waiting in Redis`);
  }

  const sinkBefore = ctx.sink.stats().messages;
  const since = Date.now();
  const ownWebhookWorker = webhooks && settings.webhookWorker === 'own';
  const worker = await startApp('worker', ctx.sink.url, {
    profile: settings.cpuProfWorker,
    extraEnv: {
      DELIVERY_CONCURRENCY: String(settings.deliveryConcurrency),
      ...webhookEnv,
      ...(ownWebhookWorker ? { WORKER_QUEUES: 'delivery,inbound' } : {}),
    },
  });
  const hookWorker = ownWebhookWorker
    ? await startApp('worker', ctx.sink.url, {
        profile: settings.cpuProfWorker,
        extraEnv: { ...webhookEnv, WORKER_QUEUES: 'webhooks' },
      })
    : null;
  const memory = memoryMonitor(worker.pid);
  const cpu = cpuMeter(worker.pid);
  const hookMemory = hookWorker ? memoryMonitor(hookWorker.pid) : null;
  const hookCpu = hookWorker ? cpuMeter(hookWorker.pid) : null;
  if (whileAccepting) {
    await waitHealthy(worker, worker.url);
    apiMemory = memoryMonitor(api.pid);
    log(
      `e2e: the worker is up; queuing ${total} messages (${Math.ceil(total / 4)} requests x 4 recipients) while it delivers`,
    );
    queueing = queueMessages(api.url, ctx.boot.token, total).then((q) => (queued = q));
    queueing.catch(() => undefined);
  }
  const timeline = [];
  const deadline = Date.now() + settings.deliveryTimeoutSec * 1000;
  let lastProgress = { done: -1, at: Date.now() };
  let counts;
  let allSentAt = null;
  let stalled = false;
  let cpuUse;
  let mem;
  let hookUse = null;
  let apiMem = null;
  try {
    for (;;) {
      checkInterrupted();
      if (worker.exit) throw new Error(`worker exited (${JSON.stringify(worker.exit)}):\n${worker.tail()}`);
      if (hookWorker?.exit)
        throw new Error(`webhook worker exited (${JSON.stringify(hookWorker.exit)}):\n${hookWorker.tail()}`);
      const { rows } = await ctx.db.query(`SELECT status, count(*)::int AS n FROM messages GROUP BY status`);
      counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      const sent = counts.sent || 0;
      const done = Object.entries(counts)
        .filter(([status]) => !['pending', 'sending', 'deferred'].includes(status))
        .reduce((a, [, n]) => a + n, 0);
      const now = Date.now();
      const last = timeline[timeline.length - 1];
      if (!last || now - since - last.tMs >= 1000) {
        timeline.push({ tMs: now - since, sent, sink: ctx.sink.stats().messages - sinkBefore });
      }
      let posted = 0;
      let toPost = 0;
      // Counted once every message is final, not while the rate is measured: the count is not free.
      if (webhooks && done >= total) {
        const { rows: hooks } = await ctx.db.query(
          `SELECT (SELECT count(*)::int FROM webhook_deliveries WHERE status IN ('succeeded', 'gave_up', 'disabled')) AS posted,
                  (SELECT count(*)::int FROM message_events WHERE 'message.' || type = ANY($1)) AS events`,
          [settings.webhookEvents],
        );
        posted = hooks[0].posted;
        toPost = hooks[0].events;
      }
      if (sent >= total && !allSentAt) allSentAt = now;
      if (done >= total && posted >= toPost) break; // everything final (some maybe not sent), every event posted
      if (done + posted !== lastProgress.done) lastProgress = { done: done + posted, at: now };
      else if (now - lastProgress.at > 60_000) {
        stalled = true;
        log(`delivery: no progress for 60 s (${JSON.stringify(counts)}), giving up`);
        break;
      }
      if (now > deadline) {
        stalled = true;
        log(
          `delivery: BENCH_DELIVERY_TIMEOUT (${settings.deliveryTimeoutSec} s) reached (${JSON.stringify(counts)})`,
        );
        break;
      }
      await sleep(250);
    }
  } finally {
    cpuUse = cpu.stop();
    mem = memory.stop();
    if (hookWorker) hookUse = { ...hookCpu.stop(), ...hookMemory.stop() };
    await worker.stop();
    if (hookWorker) await hookWorker.stop();
    if (whileAccepting) {
      await queueing;
      apiMem = apiMemory.stop();
      await api.stop();
    }
  }
  await sleep(200); // the sink may still be answering the last DATA
  const { rows: times } = await ctx.db.query(`
    SELECT (SELECT min(at) FROM message_events WHERE type = 'sending') AS first_sending,
           (SELECT max(at) FROM message_events WHERE type = 'sent') AS last_sent,
           (SELECT min(created_at) FROM messages) AS first_accept`);
  const { rows: lat } = await ctx.db.query(`
    SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM s.at - c.at) * 1000) AS p
      FROM message_events s
      JOIN message_events c ON c.message_id = s.message_id AND c.type = 'sending'
     WHERE s.type = 'sent'`);
  const { first_sending: firstSending, last_sent: lastSent, first_accept: firstAccept } = times[0];
  const sent = counts.sent || 0;
  const consumeSec = firstSending && lastSent ? (lastSent - firstSending) / 1000 : null;
  const sinkCount = ctx.sink.stats().messages - sinkBefore;
  const p = lat[0].p || [null, null];
  const result = {
    messages: total,
    sent,
    statuses: counts,
    stalled,
    msgPerSec: consumeSec ? round(sent / consumeSec, 1) : null,
    ...(whileAccepting && firstAccept && lastSent
      ? { msgPerSecFromFirstAccept: round(sent / ((lastSent - firstAccept) / 1000), 1) }
      : {}),
    ...(apiMem ? { apiPeakRssMb: apiMem.peakRssMb } : {}),
    consumeSec: round(consumeSec, 2),
    workerStartupSec: firstSending ? round((firstSending - worker.startedAt) / 1000, 2) : null,
    fromSpawnToAllSentSec: allSentAt ? round((allSentAt - worker.startedAt) / 1000, 2) : null,
    fromFirstAcceptSec: firstAccept && lastSent ? round((lastSent - firstAccept) / 1000, 2) : null,
    queueingSec: round(queued.seconds, 2),
    queueingMsgPerSec: round(queued.accepted / queued.seconds, 1),
    sendingToSentMs: { p50: round(p[0], 1), p99: round(p[1], 1) },
    sinkMessages: sinkCount,
    duplicatesAtSink: Math.max(0, sinkCount - sent),
    errors: total - sent,
    concurrency: settings.deliveryConcurrency,
    ...(webhooks
      ? {
          webhooks: {
            ...(await webhookStats(ctx, receiver, lastSent)),
            worker: hookUse
              ? { own: true, cores: hookUse.processCores, peakRssMb: hookUse.peakRssMb }
              : { own: false },
          },
        }
      : {}),
    cpuMsPerMessage: cpuMsPerMessage(sent, cpuUse, hookUse),
    peakRssMb: mem.peakRssMb,
    vmHwmMb: mem.hwmMb,
    rssAtStartMb: mem.rssAtStartMb,
    rssEverySecondMb: mem.timeline,
    ...cpuUse,
    workerLogLines: worker.lineCount(),
    timeline: timeline.map(({ tMs, sent: s, sink }) => ({ t: round(tMs / 1000, 1), sent: s, sink })),
  };
  if (worker.lineCount() > 0) result.workerLogTail = worker.tail(5);
  if (webhooks) {
    const w = result.webhooks;
    log(
      `webhooks: ${w.succeeded}/${w.events} events posted, ${w.deliveriesPerSec} deliveries/s, event -> first attempt ` +
        `p50 ${w.eventToFirstAttemptMs.p50} ms / p99 ${w.eventToFirstAttemptMs.p99} ms, last posted ${w.lastPostedAfterLastSentSec} s after the last sent; ` +
        `receiver got ${w.receiverRequests} (${w.duplicatesAtReceiver} duplicates)` +
        (w.worker.own
          ? `; webhook worker ${w.worker.cores} cores, peak RSS ${w.worker.peakRssMb} MB`
          : '; posted by the delivery worker'),
    );
    await receiver.close();
  }
  if (whileAccepting) {
    log(
      `e2e: ${sent}/${total} sent, ${result.msgPerSecFromFirstAccept} msg/s from the first accept to the last sent ` +
        `(${result.fromFirstAcceptSec} s; the API accepted them in ${result.queueingSec} s), API peak RSS ${result.apiPeakRssMb} MB`,
    );
  }
  log(
    `delivery: ${sent}/${total} sent, ${result.msgPerSec} msg/s over ${result.consumeSec} s of consuming ` +
      `(worker start-up ${result.workerStartupSec} s), sink got ${sinkCount}, peak RSS ${result.peakRssMb} MB; CPU cores: worker ` +
      `${result.processCores}, postgres ${result.postgresCores}, redis ${result.redisCores}, bench script (sink) ${result.benchScriptCores}, other ${result.otherCores}; ` +
      `CPU per message: ${formatCpuPerMessage(result.cpuMsPerMessage)}`,
  );
  if (settings.cpuProfWorker) {
    ctx.profiles.worker = readProfile(since);
    if (ctx.profiles.worker)
      log(`CPU profile of the delivery worker:\n${cpuprofile.format(ctx.profiles.worker)}`);
  }
  return result;
}

/**
 * CPU time per message sent, in ms, of the worker, PostgreSQL and (when it ran)
 * the webhook worker: steadier than rates on a noisy machine, since it does
 * not count the time a process waited for a core.
 */
function cpuMsPerMessage(sent, cpuUse, hookUse) {
  if (!sent) return null;
  const per = (use, cores) => (cores === null ? null : round((cores * use.cpuSeconds * 1000) / sent, 3));
  return {
    worker: per(cpuUse, cpuUse.processCores),
    postgres: per(cpuUse, cpuUse.postgresCores),
    ...(hookUse ? { webhookWorker: per(hookUse, hookUse.processCores) } : {}),
  };
}

/** CPU time per request answered, in ms, of the server and PostgreSQL. */
function cpuMsPerRequest(requests, cpuUse) {
  if (!requests) return null;
  const per = (cores) => (cores === null ? null : round((cores * cpuUse.cpuSeconds * 1000) / requests, 3));
  return { server: per(cpuUse.processCores), postgres: per(cpuUse.postgresCores) };
}

function formatCpuPerMessage(ms) {
  if (!ms) return 'n/a';
  return [
    `worker ${ms.worker} ms`,
    `postgres ${ms.postgres} ms`,
    ...(ms.webhookWorker !== undefined ? [`webhook worker ${ms.webhookWorker} ms`] : []),
  ].join(', ');
}

/** What the webhook side of a `webhooks` run did, read from its tables and the receiver's count. */
async function webhookStats(ctx, receiver, lastSent) {
  const { rows } = await ctx.db.query(
    `SELECT (SELECT count(*)::int FROM message_events WHERE 'message.' || type = ANY($1)) AS events,
            (SELECT count(*)::int FROM webhook_deliveries WHERE status = 'succeeded') AS succeeded,
            (SELECT count(*)::int FROM webhook_attempts WHERE outcome <> 'success') AS failed_attempts,
            (SELECT min(at) FROM webhook_attempts) AS first_attempt,
            (SELECT max(at) FROM webhook_attempts WHERE outcome = 'success') AS last_success`,
    [settings.webhookEvents],
  );
  const { rows: lag } = await ctx.db.query(`
    SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM a.at - e.at) * 1000) AS p
      FROM webhook_attempts a
      JOIN webhook_deliveries d ON d.id = a.delivery_id
      JOIN message_events e ON e.id = d.event_id
     WHERE a.attempt = 1`);
  const r = rows[0];
  const seconds = r.first_attempt && r.last_success ? (r.last_success - r.first_attempt) / 1000 : null;
  const p = lag[0].p || [null, null];
  const { requests, distinct } = receiver.stats();
  return {
    subscribedTo: settings.webhookEvents,
    events: r.events,
    succeeded: r.succeeded,
    failedAttempts: r.failed_attempts,
    deliveriesPerSec: seconds ? round(r.succeeded / seconds, 1) : null,
    postingSec: round(seconds, 2),
    eventToFirstAttemptMs: { p50: round(p[0], 1), p99: round(p[1], 1) },
    lastPostedAfterLastSentSec:
      r.last_success && lastSent ? round((r.last_success - lastSent) / 1000, 2) : null,
    receiverRequests: requests,
    duplicatesAtReceiver: requests - distinct,
    notPosted: r.events - r.succeeded,
  };
}

// ---------------------------------------------------------------- report

function targetsFor(results) {
  const { api, baseline, delivery } = results.phases;
  const t = [];
  const add = (name, target, value, pass) =>
    t.push({ name, target, value, pass: value === null || value === undefined ? null : pass });
  const ok = (phase) => phase && !phase.error;
  if (ok(api) && ok(baseline)) {
    const ratio = api.reqPerSec / baseline.reqPerSec;
    const p99 = api.latencyMs.p99 / baseline.latencyMs.p99;
    add(
      'API req/s vs baseline',
      `>= ${TARGETS.apiVsBaselineReqPerSec * 100} %`,
      `${round(ratio * 100, 1)} %`,
      ratio >= TARGETS.apiVsBaselineReqPerSec,
    );
    add(
      'API p99 vs baseline',
      `<= ${TARGETS.apiVsBaselineP99}x`,
      `${round(p99, 2)}x`,
      p99 <= TARGETS.apiVsBaselineP99,
    );
  } else {
    add('API req/s vs baseline', `>= ${TARGETS.apiVsBaselineReqPerSec * 100} %`, null, false);
    add('API p99 vs baseline', `<= ${TARGETS.apiVsBaselineP99}x`, null, false);
  }
  if (ok(api)) {
    const errors = api.non2xx + api.errors + api.timeouts;
    add('API errors (non-2xx + errors + timeouts)', '0', errors, errors === 0);
    add(
      'API process peak RSS',
      `<= ${TARGETS.peakRssMb} MB`,
      `${api.peakRssMb} MB`,
      api.peakRssMb <= TARGETS.peakRssMb,
    );
  }
  if (ok(delivery)) {
    add(
      'delivery messages/s',
      `>= ${TARGETS.deliveryMsgPerSec}`,
      delivery.msgPerSec,
      delivery.msgPerSec >= TARGETS.deliveryMsgPerSec,
    );
    add(
      'delivery errors (not sent + duplicates)',
      '0',
      delivery.errors + delivery.duplicatesAtSink,
      delivery.errors + delivery.duplicatesAtSink === 0,
    );
    add(
      'worker process peak RSS',
      `<= ${TARGETS.peakRssMb} MB`,
      `${delivery.peakRssMb} MB`,
      delivery.peakRssMb <= TARGETS.peakRssMb,
    );
  } else if (settings.phases.includes('delivery')) {
    add('delivery messages/s', `>= ${TARGETS.deliveryMsgPerSec}`, null, false);
  }
  const { e2e, smtp } = results.phases;
  if (ok(e2e)) {
    const rate = e2e.msgPerSecFromFirstAccept;
    add(
      'delivery msg/s while the API accepts',
      `>= ${TARGETS.deliveryWhileAcceptingMsgPerSec}`,
      rate,
      rate >= TARGETS.deliveryWhileAcceptingMsgPerSec,
    );
    const errors = e2e.errors + e2e.duplicatesAtSink;
    add('e2e errors (not sent + duplicates)', '0', errors, errors === 0);
    const peak = Math.max(e2e.peakRssMb, e2e.apiPeakRssMb);
    add(
      'e2e peak RSS, API and worker',
      `<= ${TARGETS.peakRssMb} MB`,
      `${e2e.apiPeakRssMb} / ${e2e.peakRssMb} MB`,
      peak <= TARGETS.peakRssMb,
    );
  } else if (settings.phases.includes('e2e')) {
    add('delivery msg/s while the API accepts', `>= ${TARGETS.deliveryWhileAcceptingMsgPerSec}`, null, false);
  }
  if (ok(smtp)) {
    const target = `>= ${TARGETS.smtpVsApiMessagesPerSec * 100} % of the API's`;
    if (ok(api)) {
      const ratio = smtp.msgPerSec / (4 * api.reqPerSec);
      add(
        'SMTP relay messages/s vs HTTP API',
        target,
        `${round(ratio * 100, 1)} %`,
        ratio >= TARGETS.smtpVsApiMessagesPerSec,
      );
    } else add('SMTP relay messages/s vs HTTP API', target, null, false);
    add('SMTP relay refusals', '0', smtp.errors, smtp.errors === 0);
    add(
      'SMTP relay process peak RSS',
      `<= ${TARGETS.peakRssMb} MB`,
      `${smtp.peakRssMb} MB`,
      smtp.peakRssMb <= TARGETS.peakRssMb,
    );
  }
  const { webhooks } = results.phases;
  if (ok(webhooks)) {
    const target = `>= ${TARGETS.deliveryWithWebhooksVsWithout * 100} % of without`;
    if (ok(delivery)) {
      const ratio = webhooks.msgPerSec / delivery.msgPerSec;
      add(
        'delivery msg/s with webhooks on',
        target,
        `${round(ratio * 100, 1)} %`,
        ratio >= TARGETS.deliveryWithWebhooksVsWithout,
      );
    } else add('delivery msg/s with webhooks on', target, null, false);
    const missing = webhooks.webhooks.notPosted + webhooks.errors;
    add('webhooks: events not posted + messages not sent', '0', missing, missing === 0);
    add(
      'worker peak RSS, webhooks on',
      `<= ${TARGETS.peakRssMb} MB`,
      `${webhooks.peakRssMb} MB`,
      webhooks.peakRssMb <= TARGETS.peakRssMb,
    );
    const hookWorker = webhooks.webhooks.worker;
    if (hookWorker.own)
      add(
        'webhook worker peak RSS',
        `<= ${TARGETS.peakRssMb} MB`,
        `${hookWorker.peakRssMb} MB`,
        hookWorker.peakRssMb <= TARGETS.peakRssMb,
      );
  } else if (settings.phases.includes('webhooks')) {
    add(
      'delivery msg/s with webhooks on',
      `>= ${TARGETS.deliveryWithWebhooksVsWithout * 100} % of without`,
      null,
      false,
    );
  }
  return t;
}

function printReport(results) {
  const rows = [['phase', 'rate', 'p50', 'p99', 'errors', 'peak RSS', 'CPU cores: process/postgres/other']];
  const cpuCols = (r) => `${r.processCores} / ${r.postgresCores} / ${r.otherCores}`;
  const { api, baseline, delivery } = results.phases;
  const http = (name, r) => {
    if (!r) return;
    if (r.error)
      return rows.push([name, `FAILED: ${r.error.split('\n')[0].slice(0, 80)}`, '', '', '', '', '']);
    rows.push([
      name,
      `${r.reqPerSec} req/s`,
      `${r.latencyMs.p50} ms`,
      `${r.latencyMs.p99} ms`,
      `${r.non2xx} non-2xx, ${r.errors} err, ${r.timeouts} t/o`,
      `${r.peakRssMb} MB`,
      cpuCols(r),
    ]);
  };
  http('API (app, APP_ROLE=api)', api);
  const { smtp } = results.phases;
  if (smtp?.error)
    rows.push([
      'SMTP relay (app, APP_ROLE=api)',
      `FAILED: ${smtp.error.split('\n')[0].slice(0, 80)}`,
      '',
      '',
      '',
      '',
      '',
    ]);
  else if (smtp) {
    rows.push([
      `SMTP relay (app, ${smtp.connections} connections)`,
      `${smtp.transactionsPerSec} tx/s`,
      `${smtp.latencyMs.p50} ms`,
      `${smtp.latencyMs.p99} ms`,
      `${smtp.errors} refused`,
      `${smtp.peakRssMb} MB`,
      cpuCols(smtp),
    ]);
  }
  http('baseline (node:http+pg+bull)', baseline);
  http('baseline + app lookups (diagnostic)', results.phases['baseline-app-sql']);
  if (delivery) {
    if (delivery.error)
      rows.push([
        'delivery (worker)',
        `FAILED: ${delivery.error.split('\n')[0].slice(0, 80)}`,
        '',
        '',
        '',
        '',
        '',
      ]);
    else {
      rows.push([
        `delivery (worker, concurrency ${delivery.concurrency})`,
        `${delivery.msgPerSec} msg/s`,
        `${delivery.sendingToSentMs.p50} ms*`,
        `${delivery.sendingToSentMs.p99} ms*`,
        `${delivery.errors} not sent, ${delivery.duplicatesAtSink} dup`,
        `${delivery.peakRssMb} MB`,
        cpuCols(delivery),
      ]);
    }
  }
  const { e2e } = results.phases;
  if (e2e?.error)
    rows.push([
      'delivery while accepting (API + worker)',
      `FAILED: ${e2e.error.split('\n')[0].slice(0, 80)}`,
      '',
      '',
      '',
      '',
      '',
    ]);
  else if (e2e) {
    rows.push([
      `delivery while accepting (API + worker)`,
      `${e2e.msgPerSecFromFirstAccept} msg/s***`,
      `${e2e.sendingToSentMs.p50} ms*`,
      `${e2e.sendingToSentMs.p99} ms*`,
      `${e2e.errors} not sent, ${e2e.duplicatesAtSink} dup`,
      `${e2e.apiPeakRssMb} / ${e2e.peakRssMb} MB`,
      cpuCols(e2e),
    ]);
  }
  const { webhooks } = results.phases;
  if (webhooks?.error)
    rows.push([
      'delivery + webhooks (worker)',
      `FAILED: ${webhooks.error.split('\n')[0].slice(0, 80)}`,
      '',
      '',
      '',
      '',
      '',
    ]);
  else if (webhooks) {
    const w = webhooks.webhooks;
    rows.push([
      `delivery + webhooks (worker, concurrency ${webhooks.concurrency})`,
      `${webhooks.msgPerSec} msg/s`,
      `${webhooks.sendingToSentMs.p50} ms*`,
      `${webhooks.sendingToSentMs.p99} ms*`,
      `${webhooks.errors} not sent, ${webhooks.duplicatesAtSink} dup`,
      `${webhooks.peakRssMb} MB`,
      cpuCols(webhooks),
    ]);
    rows.push([
      `  webhook deliveries (${w.worker.own ? 'webhook worker' : 'same worker'}, same run)`,
      `${w.deliveriesPerSec} deliveries/s`,
      `${w.eventToFirstAttemptMs.p50} ms**`,
      `${w.eventToFirstAttemptMs.p99} ms**`,
      `${w.notPosted} not posted, ${w.duplicatesAtReceiver} dup`,
      w.worker.own ? `${w.worker.peakRssMb} MB` : '',
      w.worker.own ? `${w.worker.cores} (process)` : '',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join(' | ');
  const out = [];
  out.push('');
  out.push(
    `Leadpush bench ${results.date} on ${results.machine.cpus} x ${results.machine.cpuModel}, ${results.machine.totalMemMb} MB, ` +
      `node ${results.machine.node}, PostgreSQL ${results.machine.postgres}, Redis ${results.machine.redis}; ` +
      `machine ${results.machine.busyPctBeforeRun} % busy just before the phases`,
  );
  out.push(
    `${settings.connections} connections, ${settings.durationSec} s (+${settings.warmupSec} s warm-up), body: 4 recipients (3 to + 1 bcc); ` +
      'API phase runs APP_ROLE=api (no worker competing for CPU); RATE_LIMIT_RPS=0' +
      `; app node flags: ${settings.nodeArgs.join(' ') || '(none)'}` +
      (settings.metrics
        ? `; METRICS_TOKEN set: the app counted ${results.phases.api?.metricsRequestsCounted ?? '?'} POST /v1/emails 202s`
        : '; METRICS_TOKEN unset') +
      (profiling
        ? `; under --cpu-prof: ${[settings.cpuProfApi && 'API app', settings.cpuProfBaseline && 'baseline', settings.cpuProfWorker && 'worker'].filter(Boolean).join(', ')}`
        : ''),
  );
  out.push('');
  out.push(line(rows[0]));
  out.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows.slice(1)) out.push(line(r));
  if (delivery && !delivery.error) {
    out.push(
      `* delivery p50/p99: per message, 'sending' -> 'sent'. ${delivery.sent} messages in ${delivery.consumeSec} s of consuming; ` +
        `worker start-up ${delivery.workerStartupSec} s; first accept -> last sent ${delivery.fromFirstAcceptSec} s; sink got ${delivery.sinkMessages}; ` +
        `CPU per message: ${formatCpuPerMessage(delivery.cpuMsPerMessage)}.`,
    );
  }
  if (webhooks && !webhooks.error) {
    const w = webhooks.webhooks;
    out.push(
      `** webhook p50/p99: per event, the event's time -> its first attempt. Subscribed to ${w.subscribedTo.join(', ')}: ` +
        `${w.succeeded}/${w.events} posted in ${w.postingSec} s, the last ${w.lastPostedAfterLastSentSec} s after the last message sent; ` +
        `${w.failedAttempts} failed attempts; receiver got ${w.receiverRequests}; ` +
        `CPU per message and its webhook: ${formatCpuPerMessage(webhooks.cpuMsPerMessage)}.`,
    );
  }
  if (e2e && !e2e.error) {
    out.push(
      `*** delivery while accepting: messages sent / (last sent - first accept), the worker running while an API process accepted ` +
        `them (in ${e2e.queueingSec} s); peak RSS API / worker; CPU of the worker.`,
    );
  }
  if (smtp && !smtp.error) {
    const apiMsgs =
      api && !api.error ? `, HTTP API ${round(4 * api.reqPerSec, 1)} messages/s (4 per request)` : '';
    out.push(
      `messages accepted: SMTP relay ${smtp.msgPerSec} messages/s (4 envelope recipients per transaction)${apiMsgs}`,
    );
  }
  if (api && baseline && !api.error && !baseline.error) {
    out.push(`ratios app/baseline: req/s ${results.ratios.reqPerSec}, p99 ${results.ratios.p99}`);
  }
  if (results.ratios?.vsBaselineAppSql) {
    const r = results.ratios.vsBaselineAppSql;
    out.push(
      `ratios app/(baseline + app lookups): req/s ${r.reqPerSec}, p99 ${r.p99}  (diagnostic, no target)`,
    );
  }
  for (const [name, r] of Object.entries(results.phases)) {
    if (r.perRequest) {
      const rate = r.reqPerSec ?? r.transactionsPerSec;
      out.push(
        `per request, ${name}: ${r.perRequest.pgTransactions} PostgreSQL statements, ${r.perRequest.pgRowsInserted} rows inserted, ` +
          `${r.processCores && rate ? round((1000 * r.processCores) / rate, 3) : '-'} ms CPU in the server process, ` +
          `${rate ? round((1000 * r.postgresCores) / rate, 3) : '-'} ms CPU in PostgreSQL`,
      );
    }
  }
  out.push('');
  out.push('targets:');
  for (const t of results.targets) {
    const verdict = t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL';
    out.push(
      `  ${verdict}  ${t.name.padEnd(42)} ${String(t.value ?? '-').padStart(10)}   (target ${t.target})`,
    );
  }
  out.push('');
  out.push(`results: ${path.relative(ROOT, RESULTS_FILE)}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------- main

function git(args) {
  return new Promise((resolve) => {
    const child = spawn('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code === 0 ? out.trim() : null));
  });
}

function build() {
  return new Promise((resolve, reject) => {
    log('npm run build');
    const child = spawn('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`npm run build failed (${code}):\n${out.slice(-4000)}`));
    });
  });
}

/** Copies dist/ to SNAPSHOT; false when the copy is incomplete (a concurrent build deleted files). */
function snapshotDist() {
  const files = ['src/main.js', 'src/app.module.js', 'src/app.setup.js'];
  try {
    fs.rmSync(SNAPSHOT, { recursive: true, force: true });
    fs.cpSync(path.join(ROOT, 'dist'), path.join(SNAPSHOT, 'dist'), { recursive: true });
  } catch {
    return false;
  }
  return files.every((f) => fs.existsSync(path.join(SNAPSHOT, 'dist', f)));
}

async function main() {
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model?.trim(),
      totalMemMb: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
      os: `${os.type()} ${os.release()}`,
    },
    git: null,
    settings: {
      ...settings,
      pgUrl: undefined,
      appRoleApiPhase: 'api',
      recipientsPerRequest: 4,
      rateLimitRps: 0,
      logLevel: 'warn',
      queuePrefix: QUEUE_PREFIX,
      database: DB_NAME,
    },
    phases: {},
    ratios: null,
    targets: [],
    profiles: {},
  };
  const commit = await git(['rev-parse', '--short', 'HEAD']);
  const dirty = await git(['status', '--porcelain', '--', 'src', 'libs']);
  results.git = { commit, uncommittedChangesInSrc: dirty ? dirty.split('\n').length : 0 };

  if (settings.phases.some((p) => p !== 'baseline')) {
    onCleanup('remove dist snapshot', () => fs.promises.rm(SNAPSHOT, { recursive: true, force: true }));
    for (let attempt = 1; ; attempt++) {
      if (settings.build) await build();
      else log('BENCH_SKIP_BUILD=1: using the existing dist/');
      checkInterrupted();
      if (snapshotDist()) break;
      if (attempt >= 3) throw new Error('dist/ is incomplete (another build running?): run npm run build');
      log('dist/ is incomplete (another build running?), trying again in 10 s');
      await sleep(10_000);
    }
    log(`running the app from a copy of dist/ in ${SNAPSHOT}`);
  }

  // Database and Redis of this run only.
  const admin = await pgClient(settings.pgUrl);
  await admin.query(`CREATE DATABASE ${DB_NAME}`);
  log(`created database ${DB_NAME}`);
  onCleanup('drop database', async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await admin.end();
    log(`dropped database ${DB_NAME}`);
  });
  const { rows: pgv } = await admin.query('SHOW server_version');
  results.machine.postgres = pgv[0].server_version;

  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  onCleanup('delete redis keys', async () => {
    const n = await deleteRedisKeys(redis, `${QUEUE_PREFIX}*`);
    log(`deleted ${n} Redis keys ${QUEUE_PREFIX}*`);
    redis.disconnect();
  });
  results.machine.redis = ((await redis.info('server')).match(/redis_version:(\S+)/) || [])[1];

  const sink = await startCountingSink();
  onCleanup('close SMTP sink', () => sink.close());
  log(`SMTP sink on ${sink.url}`);

  const db = await pgClient(dbUrl);
  onCleanup('close db client', () => db.end());

  // Other work on the machine (a test run, a build) skews every number: measure it and say so.
  const idle = cpuMeter(process.pid);
  await sleep(2000);
  results.machine.busyPctBeforeRun = idle.stop().machineBusyPct;
  results.machine.loadavg1m = round(os.loadavg()[0], 2);
  if (results.machine.busyPctBeforeRun > 20) {
    log(
      `warning: the machine was ${results.machine.busyPctBeforeRun} % busy before the phases; numbers will be low and noisy`,
    );
  }

  const ctx = { db, redis, sink, boot: null, profiles: results.profiles };
  for (const phase of PHASES) {
    if (!settings.phases.includes(phase)) continue;
    checkInterrupted();
    log(`--- ${phase} phase`);
    await checkpoint(ctx);
    try {
      if (phase === 'api') results.phases.api = await apiPhase(ctx);
      if (phase === 'smtp') results.phases.smtp = await smtpPhase(ctx);
      if (phase === 'baseline') results.phases.baseline = await baselinePhase(ctx);
      if (phase === 'baseline-app-sql')
        results.phases['baseline-app-sql'] = await baselinePhase(ctx, { appLookups: true });
      if (phase === 'delivery') results.phases.delivery = await deliveryPhase(ctx);
      if (phase === 'webhooks') results.phases.webhooks = await deliveryPhase(ctx, { webhooks: true });
      if (phase === 'e2e') results.phases.e2e = await deliveryPhase(ctx, { whileAccepting: true });
    } catch (error) {
      if (interrupted) throw error;
      log(`${phase} phase failed: ${error.stack || error}`);
      results.phases[phase] = { error: String(error.message || error) };
    }
  }

  const { api, baseline } = results.phases;
  if (api && baseline && !api.error && !baseline.error) {
    results.ratios = {
      reqPerSec: round(api.reqPerSec / baseline.reqPerSec, 3),
      p99: round(api.latencyMs.p99 / baseline.latencyMs.p99, 3),
    };
  }
  const appSql = results.phases['baseline-app-sql'];
  if (api && appSql && !api.error && !appSql.error) {
    results.ratios = {
      ...results.ratios,
      vsBaselineAppSql: {
        reqPerSec: round(api.reqPerSec / appSql.reqPerSec, 3),
        p99: round(api.latencyMs.p99 / appSql.latencyMs.p99, 3),
      },
    };
  }
  results.targets = targetsFor(results);
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  printReport(results);

  const failedPhases = Object.values(results.phases).filter((p) => p.error).length;
  if (failedPhases > 0) return 1;
  if (settings.strict && results.targets.some((t) => t.pass === false)) return 1;
  return 0;
}

main()
  .then(async (code) => {
    await cleanup();
    agent.destroy();
    process.exit(code);
  })
  .catch(async (error) => {
    log(`failed: ${error.stack || error}`);
    await cleanup();
    process.exit(interrupted ? 130 : 1);
  });
