import { ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  /** SIGTERM and wait for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the process to exit. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing is answered until resume(). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Start again on the same port and wait until it answers PING. */
  start(): Promise<void>;
  /** Stop if running. Idempotent; the handle cannot be started again. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const POLL_INTERVAL_MS = 50;
const OUTPUT_TAIL_CHARS = 2_000;
const START_ATTEMPTS = 5;

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRedisServer(): Promise<RedisServerHandle> {
  let port = await findFreePort();
  let child: ChildProcess | undefined;
  let closed = false;

  const spawnChild = async (): Promise<void> => {
    const proc = spawn(
      'redis-server',
      [
        '--save',
        '',
        '--appendonly',
        'no',
        '--bind',
        HOST,
        '--port',
        String(port),
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const killOnExit = () => proc.kill('SIGKILL');
    process.on('exit', killOnExit);
    proc.once('exit', () => process.off('exit', killOnExit));

    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    let spawnError: Error | undefined;
    proc.once('error', (error) => {
      spawnError = error;
    });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await ping(port))) {
      const exited = hasExited(proc);
      if (spawnError || exited || Date.now() > deadline) {
        child = undefined;
        proc.kill('SIGKILL');
        await waitForExit(proc);
        const reason =
          spawnError?.message ??
          (exited
            ? `exited with ${proc.exitCode ?? proc.signalCode}`
            : `no PONG within ${READY_TIMEOUT_MS} ms`);
        throw new Error(`redis-server on port ${port} failed to start: ${reason}\n${output}`);
      }
      await sleep(POLL_INTERVAL_MS);
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    proc.kill(signal);
    proc.kill('SIGCONT'); // a paused process takes the signal only once it runs again
    const exit = waitForExit(proc);
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await exit;
    clearTimeout(timer);
  };

  const signalRunning = (signal: NodeJS.Signals): void => {
    if (!child || hasExited(child)) throw new Error(`redis-server on port ${port} is not running`);
    child.kill(signal);
  };

  // The free port is released before redis-server binds it, and an outgoing
  // connection of another test may take it meanwhile: then try another port.
  for (let attempt = 1; ; attempt++) {
    try {
      await spawnChild();
      break;
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !(error as Error).message.includes('Address already in use'))
        throw error;
      port = await findFreePort();
    }
  }

  return {
    url: `redis://${HOST}:${port}`,
    port,
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    pause: () => signalRunning('SIGSTOP'),
    resume: () => signalRunning('SIGCONT'),
    start: async () => {
      if (closed) throw new Error('redis server handle is closed');
      if (child && !hasExited(child)) throw new Error(`redis-server on port ${port} is already running`);
      await spawnChild();
    },
    close: async () => {
      closed = true;
      await terminate('SIGTERM');
    },
  };
}
