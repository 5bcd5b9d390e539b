'use strict';
/**
 * Preloaded (`node -r`) into the app only when BENCH_CPU_PROF=1.
 *
 * `node --cpu-prof` writes its profile only when the process exits normally.
 * Nest's shutdown hooks end with `process.kill(process.pid, signal)`, which
 * kills the process by the signal, so no profile would be written. With this
 * listener present, the re-raised signal lands here instead and the process
 * exits normally (code 0) after Nest's graceful shutdown has run.
 */
let received = 0;
function onSignal() {
  received += 1;
  if (received > 1) process.exit(0);
  // If the app's own handler never re-raises, still exit (normally) in time.
  setTimeout(() => process.exit(0), 15_000).unref();
}
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
