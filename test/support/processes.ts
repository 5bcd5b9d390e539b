import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

export interface AppProcess {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** Everything the process printed so far. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/**
 * Starts the production build (dist/, built by the test run's global setup)
 * as its own process and waits until it is ready: /health answers 200 for an
 * HTTP role, the "Worker started" log line for a worker.
 */
export async function startAppProcess(env: Record<string, string>, timeoutMs = 20000): Promise<AppProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnAppProcess(env, await freePort(), timeoutMs);
    } catch (error) {
      // The port freePort found can be taken by another process (an outgoing
      // connection of a parallel test) before the app binds it: pick another.
      if (!(error instanceof PortTakenError) || attempt === 3) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function spawnAppProcess(
  env: Record<string, string>,
  port: number,
  timeoutMs: number,
): Promise<AppProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? (signal ? null : 0));
    }),
  );
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const isWorker = env.APP_ROLE === 'worker';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined) {
      const message = `app process exited early (${exitCode}):\n${output.slice(-3000)}`;
      const portTaken = output.includes(`EADDRINUSE: address already in use :::${port}`);
      throw portTaken ? new PortTakenError(message) : new Error(message);
    }
    const ready = isWorker
      ? output.includes('Worker started')
      : await fetch(`http://127.0.0.1:${port}/health`)
          .then((res) => res.status === 200)
          .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`app process not ready after ${timeoutMs} ms:\n${output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (exitCode !== undefined) return exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
