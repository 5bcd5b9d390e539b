'use strict';
/**
 * `--require`d into an app process (BENCH_NODE_OPTIONS="--require
 * /abs/path/bench/lib/round-trips.js"), this times every PostgreSQL statement
 * (by its first 50 characters) and every Redis command (by name) from the
 * call to its answer, and the event loop's delay. When the process exits it
 * writes their counts and p50/p90/p99/max in ms to
 * `$TMPDIR/leadpush-round-trips.<pid>.txt`, one line each.
 *
 * A round trip's time includes the event loop's wait before it reads the
 * answer, so a statement that looks slow may be a busy process.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

const fromApp = (name) => require(require.resolve(name, { paths: [process.cwd()] }));
const times = new Map();
const record = (key, startedAt) => {
  const ms = performance.now() - startedAt;
  const list = times.get(key);
  if (list) list.push(ms);
  else times.set(key, [ms]);
};

const pg = fromApp('pg');
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === 'string' ? config : (config && config.text) || '?';
  const key = `pg ${text.replace(/\s+/g, ' ').trim().slice(0, 50)}`;
  const startedAt = performance.now();
  const last = rest.length - 1;
  if (typeof rest[last] === 'function') {
    const callback = rest[last];
    rest[last] = function (...answer) {
      record(key, startedAt);
      return callback.apply(this, answer);
    };
  } else if (config && typeof config.callback === 'function') {
    const callback = config.callback;
    config.callback = function (...answer) {
      record(key, startedAt);
      return callback.apply(this, answer);
    };
  }
  const answer = query.call(this, config, ...rest);
  if (answer && typeof answer.then === 'function') {
    answer.then(
      () => record(key, startedAt),
      () => undefined,
    );
  }
  return answer;
};

const Redis = fromApp('ioredis');
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (command, ...rest) {
  const startedAt = performance.now();
  if (command && command.promise) {
    command.promise.then(
      () => record(`redis ${command.name}`, startedAt),
      () => undefined,
    );
  }
  return sendCommand.call(this, command, ...rest);
};

const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

process.on('exit', () => {
  const at = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(1);
  const lines = [...times]
    .filter(([, list]) => list.length >= 20)
    .map(([key, list]) => {
      const sorted = list.sort((a, b) => a - b);
      const cells = [0.5, 0.9, 0.99].map((p) => at(sorted, p).padStart(7));
      return `${String(sorted.length).padStart(7)} ${cells.join(' ')} ${sorted[sorted.length - 1].toFixed(1).padStart(7)}  ${key}`;
    });
  const ms = (ns) => (ns / 1e6).toFixed(1).padStart(7);
  lines.unshift('  count     p50     p90     p99     max  (ms)');
  lines.push(
    `      - ${ms(loop.percentile(50))} ${ms(loop.percentile(90))} ${ms(loop.percentile(99))} ${ms(loop.max)}  event loop delay`,
  );
  fs.writeFileSync(
    path.join(os.tmpdir(), `leadpush-round-trips.${process.pid}.txt`),
    `${lines.join('\n')}\n`,
  );
});
