'use strict';
/**
 * Summarizes a V8 .cpuprofile (written by `node --cpu-prof`): self time per
 * function, keyed by callFrame functionName + url (+ line), largest first.
 *
 * CLI: node bench/lib/cpuprofile.js <file.cpuprofile> [top=25]
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const META = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url) {
  if (!url) return '';
  let p = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  if (p.startsWith(ROOT + '/')) p = p.slice(ROOT.length + 1);
  // bench/run.js runs the app from a copy of dist/ in the temp directory.
  p = p.replace(/^.*\/leadpush-bench-[^/]+\/dist\//, 'dist/');
  return p;
}

/** Which package a frame belongs to: a node_modules package, node: internals, or the app (dist/). */
function owner(url) {
  const p = shortUrl(url);
  if (!p) return '(native/V8)';
  if (p.startsWith('node:')) return 'node core';
  const i = p.lastIndexOf('node_modules/');
  if (i >= 0) {
    const rest = p.slice(i + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (p.startsWith('dist/')) return 'app (dist/)';
  return p;
}

/**
 * @param window optional {startUs, endUs} on the profile's clock (CLOCK_MONOTONIC
 *   microseconds, what process.hrtime gives any process on the machine): only
 *   samples taken inside it count.
 */
function summarize(file, top = 10, window = null) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map(); // node id -> microseconds
  const { samples = [], timeDeltas = [] } = profile;
  // As Chrome DevTools does: sample i lasts until sample i + 1.
  const times = new Array(samples.length);
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) times[i] = t += timeDeltas[i] || 0;
  let counted = 0;
  for (let i = 0; i < samples.length - 1; i++) {
    if (window && (times[i] < window.startUs || times[i] >= window.endUs)) continue;
    counted += 1;
    const duration = Math.max(0, times[i + 1] - times[i]);
    selfUs.set(samples[i], (selfUs.get(samples[i]) || 0) + duration);
  }
  if (window && counted === 0) throw new Error(`${file}: no samples inside the measured window`);
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const functions = new Map();
  const packages = new Map();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName || '(anonymous)';
    if (name === '(idle)') idleUs += us;
    const key = `${name}\u0000${callFrame.url}\u0000${callFrame.lineNumber}`;
    const entry = functions.get(key) || {
      function: name,
      url: shortUrl(callFrame.url),
      line: callFrame.lineNumber + 1,
      package: META.has(name) ? name : owner(callFrame.url),
      selfMs: 0,
    };
    entry.selfMs += us / 1000;
    functions.set(key, entry);
    if (!META.has(name)) packages.set(entry.package, (packages.get(entry.package) || 0) + us / 1000);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const pct = (ms) => Math.round((1000 * ms) / busyMs) / 10;
  const all = [...functions.values()].sort((a, b) => b.selfMs - a.selfMs);
  const round = (x) => Math.round(x * 10) / 10;
  return {
    file: path.relative(ROOT, file),
    window: window ? 'measured run only' : 'whole process life',
    totalMs: round(totalUs / 1000),
    idleMs: round(idleUs / 1000),
    busyMs: round(busyMs),
    meta: all.filter((f) => META.has(f.function) && f.function !== '(idle)').map((f) => ({ function: f.function, selfMs: round(f.selfMs), pctOfBusy: pct(f.selfMs) })),
    top: all
      .filter((f) => !META.has(f.function))
      .slice(0, top)
      .map((f) => ({ ...f, selfMs: round(f.selfMs), pctOfBusy: pct(f.selfMs) })),
    packages: [...packages]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([name, ms]) => ({ package: name, selfMs: round(ms), pctOfBusy: pct(ms) })),
  };
}

function format(summary) {
  const lines = [];
  lines.push(`${summary.file} (${summary.window}): ${summary.totalMs} ms sampled, ${summary.idleMs} ms idle, ${summary.busyMs} ms busy`);
  for (const m of summary.meta) lines.push(`  ${m.function.padEnd(22)} ${String(m.selfMs).padStart(9)} ms ${String(m.pctOfBusy).padStart(5)} %`);
  lines.push('  top self time (% of busy):');
  summary.top.forEach((f, i) => {
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${String(f.selfMs).padStart(9)} ms ${String(f.pctOfBusy).padStart(5)} %  ${f.function}  ${f.url ? `${f.url}:${f.line}` : ''}`,
    );
  });
  lines.push('  self time by package:');
  for (const p of summary.packages) lines.push(`      ${String(p.selfMs).padStart(9)} ms ${String(p.pctOfBusy).padStart(5)} %  ${p.package}`);
  return lines.join('\n');
}

module.exports = { summarize, format };

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/lib/cpuprofile.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${format(summarize(path.resolve(file), Number(top) || 25))}\n`);
}
