'use strict';
/**
 * `--require`d into an app process (BENCH_NODE_OPTIONS="--require
 * /abs/path/bench/lib/gc-pauses.js"), this records every garbage collection
 * pause V8 reports (PerformanceObserver 'gc' entries). When the process exits
 * it writes, to `$TMPDIR/leadpush-gc-pauses.<pid>.txt`, one line per kind
 * (scavenge, mark-compact, incremental marking step, weak callbacks) with
 * its count, total and p50/p90/max in ms, then one line per mark-compact:
 * when it started, its pause, and old space's used size just before it
 * (sampled every 20 ms) and when the observer hears of it, soon after.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const { PerformanceObserver, constants } = require('node:perf_hooks');

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};
const pauses = new Map();
const markCompacts = [];

const oldSpaceMb = () =>
  v8.getHeapSpaceStatistics().find((space) => space.space_name === 'old_space').space_used_size / 1e6;
let oldBefore = oldSpaceMb();
setInterval(() => {
  oldBefore = oldSpaceMb();
}, 20).unref();

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = KINDS[entry.detail.kind] ?? `kind ${entry.detail.kind}`;
    const list = pauses.get(kind);
    if (list) list.push(entry.duration);
    else pauses.set(kind, [entry.duration]);
    if (kind === 'mark-compact') {
      markCompacts.push({ at: entry.startTime, ms: entry.duration, before: oldBefore, after: oldSpaceMb() });
    }
  }
}).observe({ entryTypes: ['gc'] });

process.on('exit', () => {
  const at = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(2);
  const lines = [...pauses].map(([kind, list]) => {
    const sorted = list.sort((a, b) => a - b);
    const total = sorted.reduce((sum, ms) => sum + ms, 0);
    return `${kind}: ${sorted.length} pauses, ${total.toFixed(0)} ms in all, p50 ${at(sorted, 0.5)}, p90 ${at(sorted, 0.9)}, max ${sorted[sorted.length - 1].toFixed(2)} ms`;
  });
  for (const { at: startedAt, ms, before, after } of markCompacts) {
    lines.push(
      `mark-compact at ${(startedAt / 1000).toFixed(2)} s: ${ms.toFixed(2)} ms, old space ${before.toFixed(1)} -> ${after.toFixed(1)} MB`,
    );
  }
  fs.writeFileSync(path.join(os.tmpdir(), `leadpush-gc-pauses.${process.pid}.txt`), `${lines.join('\n')}\n`);
});
