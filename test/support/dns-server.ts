import type { Server, Socket } from 'node:net';
import DNS from 'dns2';

const { Packet } = DNS;

export interface DnsServerHandle {
  readonly address: string;
  readonly port: number;
  /** `127.0.0.1:PORT`, the format of DNS_SERVERS. */
  readonly server: string;
  /** Replace the TXT records of a name; one record per value, long values split into 255-byte character-strings. */
  setTxt(name: string, values: string | string[]): void;
  delete(name: string): void;
  clear(): void;
  /** While on, queries are never answered. */
  setTimeoutMode(on: boolean): void;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const NXDOMAIN = 3;
const MAX_CHARACTER_STRING_BYTES = 255;
const BIND_ATTEMPTS = 5;

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function toCharacterStrings(value: string): string[] {
  const chunks: string[] = [];
  let current = '';
  let currentBytes = 0;
  for (const char of value) {
    const bytes = Buffer.byteLength(char);
    if (currentBytes + bytes > MAX_CHARACTER_STRING_BYTES) {
      chunks.push(current);
      current = '';
      currentBytes = 0;
    }
    current += char;
    currentBytes += bytes;
  }
  chunks.push(current);
  return chunks;
}

function bindUdp(server: DNS.UDPServer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.bind(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** UDP and TCP on the same port, so truncated (over 512 bytes) UDP answers can be retried over TCP. */
async function listenPair(
  handler: DNS.DnsHandler,
): Promise<{ udp: DNS.UDPServer; tcp: DNS.TCPServer; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const udp = DNS.createUDPServer(handler);
    await bindUdp(udp, 0);
    const { port } = udp.address();
    const tcp = DNS.createTCPServer(handler);
    try {
      await listenTcp(tcp, port);
      return { udp, tcp, port };
    } catch (error) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (attempt >= BIND_ATTEMPTS) throw error;
    }
  }
}

export async function startDnsServer(): Promise<DnsServerHandle> {
  const records = new Map<string, string[]>();
  let timeoutMode = false;

  const handler: DNS.DnsHandler = (request, send) => {
    if (timeoutMode) return;
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    for (const question of request.questions) {
      const values = records.get(normalizeName(question.name));
      if (!values) {
        response.header.rcode = NXDOMAIN;
        continue;
      }
      if (question.type !== Packet.TYPE.TXT && question.type !== Packet.TYPE.ANY) continue;
      for (const value of values) {
        response.answers.push(
          Packet.createResourceFromQuestion(question, {
            type: Packet.TYPE.TXT,
            class: Packet.CLASS.IN,
            ttl: 0,
            data: toCharacterStrings(value),
          }),
        );
      }
    }
    Promise.resolve()
      .then(() => send(response))
      .catch(() => undefined);
  };

  const { udp, tcp, port } = await listenPair(handler);
  udp.on('error', () => undefined);
  const sockets = new Set<Socket>();
  tcp.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  let closing: Promise<void> | undefined;

  return {
    address: HOST,
    port,
    server: `${HOST}:${port}`,
    setTxt(name, values) {
      records.set(normalizeName(name), Array.isArray(values) ? [...values] : [values]);
    },
    delete(name) {
      records.delete(normalizeName(name));
    },
    clear() {
      records.clear();
    },
    setTimeoutMode(on) {
      timeoutMode = on;
    },
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => {
          tcp.close(() => resolve());
          sockets.forEach((socket) => socket.destroy());
        }),
      ]).then(() => undefined);
      return closing;
    },
  };
}
