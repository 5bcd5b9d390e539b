import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the test PostgreSQL server, for faults a test must
 * cause on purpose: an outage (every connection dropped, new ones refused),
 * or a connection cut right after the server committed a statement, so the
 * client sees an error for work that is in fact stored.
 *
 * It reads the server-to-client stream as PostgreSQL protocol messages
 * (a type byte and a 32-bit length), which is all it needs for the cut.
 */
export interface PgProxy {
  /** `url` with host and port replaced by the proxy's. */
  readonly url: string;
  readonly port: number;
  /** Open client connections. */
  connections(): number;
  /** Drops every connection and refuses new ones until up(). */
  down(): void;
  up(): void;
  /**
   * The next `times` statements whose CommandComplete tag matches `tag`
   * (e.g. /^INSERT/) lose their connection once the server is ready for the
   * next query, i.e. after the implicit commit: the client gets an error,
   * the server keeps the work.
   */
  cutAfterCommit(tag: RegExp, times?: number): void;
  /** How many connections cutAfterCommit has cut so far. */
  cuts(): number;
  close(): Promise<void>;
}

const COMMAND_COMPLETE = 0x43; // 'C'
const READY_FOR_QUERY = 0x5a; // 'Z'

export async function startPgProxy(targetUrl: string): Promise<PgProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const sockets = new Set<Socket>();
  let isDown = false;
  let cut: { tag: RegExp; left: number } | null = null;
  let cutCount = 0;

  const server: Server = createServer((client) => {
    if (isDown) return void client.destroy();
    const upstream = connect({ host: target.hostname, port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);

    let pending: Buffer = Buffer.alloc(0);
    let committedMatch = false;
    upstream.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let offset = 0;
      while (pending.length - offset >= 5) {
        const length = pending.readUInt32BE(offset + 1);
        if (pending.length - offset < 1 + length) break;
        const type = pending[offset];
        if (type === COMMAND_COMPLETE && cut) {
          const tagText = pending
            .subarray(offset + 5, offset + length)
            .toString('utf8')
            .replace(/\0$/, '');
          if (cut.tag.test(tagText)) committedMatch = true;
        }
        if (type === READY_FOR_QUERY && committedMatch && cut) {
          committedMatch = false;
          if (--cut.left <= 0) cut = null;
          cutCount++;
          client.write(pending.subarray(0, offset));
          return end();
        }
        offset += 1 + length;
      }
      client.write(pending.subarray(0, offset));
      pending = pending.subarray(offset);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  const dropAll = () => sockets.forEach((socket) => socket.destroy());
  return {
    url: url.toString(),
    port,
    connections: () => [...sockets].filter((s) => s.remotePort !== targetPort).length,
    down() {
      isDown = true;
      dropAll();
    },
    up() {
      isDown = false;
    },
    cutAfterCommit(tag, times = 1) {
      cut = { tag, left: times };
    },
    cuts: () => cutCount,
    async close() {
      isDown = true;
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
