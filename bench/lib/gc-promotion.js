'use strict';
/**
 * `--require`d into a process (the app: BENCH_NODE_OPTIONS="--require
 * /abs/path/bench/lib/gc-promotion.js"; the baseline: BENCH_BASELINE_NODE_ARGS
 * the same), this records every garbage collection with v8.GCProfiler and
 * counts the HTTP requests the process served. When the process exits it
 * writes, to `$TMPDIR/leadpush-gc-promotion.<pid>.txt`, one line per kind of
 * collection: how many, their time, how much old space grew across them and
 * how much they freed. Old space growing across scavenges is what they
 * promoted: per request, it is what each request leaves for a mark-compact.
 */
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');

const profiler = new v8.GCProfiler();
profiler.start();

let requests = 0;
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function countRequests(event, ...args) {
  if (event === 'request') requests += 1;
  return emit.call(this, event, ...args);
};

const oldSpace = (stats) => stats.heapSpaceStatistics.find((s) => s.spaceName === 'old_space').spaceUsedSize;

process.on('exit', () => {
  const kinds = new Map();
  for (const gc of profiler.stop().statistics) {
    const kind = kinds.get(gc.gcType) ?? { count: 0, ms: 0, oldGrowth: 0, freed: 0 };
    kind.count += 1;
    kind.ms += gc.cost / 1000;
    kind.oldGrowth += oldSpace(gc.afterGC) - oldSpace(gc.beforeGC);
    kind.freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    kinds.set(gc.gcType, kind);
  }
  const perRequest = (bytes) =>
    requests > 0 ? `${(bytes / requests / 1e3).toFixed(1)} kB/request` : 'no requests';
  const lines = [`requests: ${requests}`];
  for (const [type, { count, ms, oldGrowth, freed }] of kinds) {
    lines.push(
      `${type}: ${count} collections, ${ms.toFixed(0)} ms, old space ${oldGrowth >= 0 ? '+' : ''}${(oldGrowth / 1e6).toFixed(1)} MB (${perRequest(oldGrowth)}), freed ${(freed / 1e6).toFixed(0)} MB`,
    );
  }
  fs.writeFileSync(
    path.join(os.tmpdir(), `leadpush-gc-promotion.${process.pid}.txt`),
    `${lines.join('\n')}\n`,
  );
});
