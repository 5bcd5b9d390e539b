/**
 * Builds the production bundle once per test run, as `npm run build` does:
 * tests that need separate app processes (several workers, killed workers)
 * start dist/src/main.js, and the app serves the dashboard from dist/web
 * (Vite's build, about two seconds) to the browser tests.
 */
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  const root = join(__dirname, '..');
  const run = (bin, args) =>
    execFileSync(process.execPath, [join(root, 'node_modules', ...bin), ...args], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  run(['@nestjs', 'cli', 'bin', 'nest.js'], ['build']);
  run(['vite', 'bin', 'vite.js'], ['build', '--logLevel', 'error', '-c', 'web/vite.config.mts']);
};
