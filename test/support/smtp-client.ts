import { connect, Socket } from 'node:net';

/** One SMTP reply: its code and its lines' text joined (enhanced status included). */
export interface Reply {
  code: number;
  text: string;
}

/**
 * A line-level SMTP client for exact replies: each command answers the
 * server's complete reply (multi-line replies joined).
 */
export interface RawSmtp {
  greeting: Reply;
  command(line: string): Promise<Reply>;
  /** Sends the commands in one write (PIPELINING) and answers their replies, in order. */
  pipeline(lines: string[]): Promise<Reply[]>;
  /** Sends bytes as they are (DATA content) and answers the reply that follows. */
  send(data: Buffer | string): Promise<Reply>;
  close(): void;
}

export async function rawSmtp(port: number): Promise<RawSmtp> {
  const socket: Socket = connect(port, '127.0.0.1');
  let buffer = '';
  const waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];
  const replies: Reply[] = [];
  let lines: string[] = [];
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let end: number;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      lines.push(line.slice(4));
      if (line[3] !== '-') {
        const reply = { code: Number(line.slice(0, 3)), text: lines.join('\n') };
        lines = [];
        const next = waiting.shift();
        if (next) next.resolve(reply);
        else replies.push(reply);
      }
    }
  });
  socket.on('error', (error) => waiting.splice(0).forEach((w) => w.reject(error)));
  const nextReply = () =>
    new Promise<Reply>((resolve, reject) => {
      const queued = replies.shift();
      if (queued) resolve(queued);
      else waiting.push({ resolve, reject });
    });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const greeting = await nextReply();
  return {
    greeting,
    command: (line) => {
      socket.write(`${line}\r\n`);
      return nextReply();
    },
    pipeline: (lines) => {
      socket.write(lines.map((line) => `${line}\r\n`).join(''));
      return Promise.all(lines.map(() => nextReply()));
    },
    send: (data) => {
      socket.write(data);
      return nextReply();
    },
    close: () => socket.destroy(),
  };
}

/** AUTH PLAIN's initial response for a user name and password. */
export const plainAuth = (user: string, password: string) =>
  Buffer.from(`\0${user}\0${password}`).toString('base64');
