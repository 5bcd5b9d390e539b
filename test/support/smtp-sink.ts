import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ParsedMail, simpleParser } from 'mailparser';
import {
  SMTPServer,
  type SMTPServerDataStream,
  type SMTPServerError,
  type SMTPServerSession,
} from 'smtp-server';

export interface SmtpReply {
  code: number;
  message: string;
}

export interface SmtpTransaction {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: Buffer;
}

export interface SmtpSinkMessage extends SmtpTransaction {
  parsed: ParsedMail;
}

type MaybePromise<T> = T | Promise<T>;

export type MailFromHandler = (
  address: string,
  session: SMTPServerSession,
) => MaybePromise<SmtpReply | undefined>;
export type RcptHandler = (
  address: string,
  session: SMTPServerSession,
) => MaybePromise<SmtpReply | undefined>;
export type DataHandler = (
  transaction: SmtpTransaction,
  session: SMTPServerSession,
) => MaybePromise<SmtpReply | undefined>;

export interface SmtpSinkOptions {
  /** Advertise STARTTLS (with smtp-server's built-in test certificate). Off by default. */
  starttls?: boolean;
}

export interface SmtpSink {
  readonly url: string;
  readonly port: number;
  /** Accepted messages, in arrival order. */
  readonly messages: SmtpSinkMessage[];
  /** Return a reply to reject the sender at MAIL FROM, undefined to accept. */
  setMailFromHandler(fn: MailFromHandler | undefined): void;
  /** Return a reply to reject the recipient at RCPT TO, undefined to accept. */
  setRcptHandler(fn: RcptHandler | undefined): void;
  /** Return a reply to reject the message after DATA, undefined to accept. */
  setDataHandler(fn: DataHandler | undefined): void;
  /** Delay before answering each DATA. */
  setDelay(ms: number): void;
  /** Number of RCPT TO attempts for the address (accepted or rejected), case-insensitive. */
  rcptAttempts(address: string): number;
  /** Number of DATA transactions that reached the end of the message (accepted or rejected). */
  dataAttempts(): number;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  /** Clear recorded messages and counters. Handlers and delay are kept. */
  reset(): void;
  /** Stop listening and drop open connections. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  /** Final stop. Idempotent. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const POLL_INTERVAL_MS = 25;

function replyError(reply: SmtpReply): SMTPServerError {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

function readStream(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', reject);
    stream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SmtpSinkMessage[] = [];
  const rcptCounts = new Map<string, number>();
  let dataCount = 0;
  let mailFromHandler: MailFromHandler | undefined;
  let rcptHandler: RcptHandler | undefined;
  let dataHandler: DataHandler | undefined;
  let delayMs = 0;
  let server: SMTPServer | undefined;
  let port = 0;
  let closed = false;
  const sockets = new Set<Socket>();
  const delays = new Set<AbortController>();

  const onData = async (
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
  ): Promise<SmtpReply | undefined> => {
    const transaction: SmtpTransaction = {
      envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      raw: await readStream(stream),
    };
    dataCount += 1;
    if (delayMs > 0) {
      const abort = new AbortController();
      delays.add(abort);
      try {
        await sleep(delayMs, undefined, { signal: abort.signal });
      } finally {
        delays.delete(abort);
      }
    }
    const reply = await dataHandler?.(transaction, session);
    if (reply) return reply;
    messages.push({ ...transaction, parsed: await simpleParser(transaction.raw) });
    return undefined;
  };

  const listen = async (): Promise<void> => {
    const instance = new SMTPServer({
      authOptional: true,
      disabledCommands: opts.starttls ? [] : ['STARTTLS'],
      logger: false,
      onMailFrom(address, session, callback) {
        Promise.resolve(mailFromHandler?.(address.address, session)).then(
          (reply) => callback(reply ? replyError(reply) : undefined),
          (error: Error) => callback(error),
        );
      },
      onRcptTo(address, session, callback) {
        const key = address.address.toLowerCase();
        rcptCounts.set(key, (rcptCounts.get(key) ?? 0) + 1);
        Promise.resolve(rcptHandler?.(address.address, session)).then(
          (reply) => callback(reply ? replyError(reply) : undefined),
          (error: Error) => callback(error),
        );
      },
      onData(stream, session, callback) {
        onData(stream, session).then(
          (reply) => callback(reply ? replyError(reply) : undefined),
          (error: Error) => callback(error),
        );
      },
    });
    instance.on('error', () => undefined);
    instance.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      instance.server.once('error', reject);
      instance.listen(port, HOST, () => {
        instance.server.off('error', reject);
        resolve();
      });
    });
    const address = instance.server.address();
    if (address === null || typeof address === 'string') throw new Error('smtp sink has no TCP address');
    port = address.port;
    server = instance;
  };

  const stop = async (): Promise<void> => {
    const instance = server;
    if (!instance) return;
    server = undefined;
    const closing = new Promise<void>((resolve) => instance.close(() => resolve()));
    delays.forEach((abort) => abort.abort());
    sockets.forEach((socket) => socket.destroy());
    await closing;
  };

  await listen();

  return {
    url: `smtp://${HOST}:${port}`,
    port,
    messages,
    setMailFromHandler(fn) {
      mailFromHandler = fn;
    },
    setRcptHandler(fn) {
      rcptHandler = fn;
    },
    setDataHandler(fn) {
      dataHandler = fn;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    rcptAttempts(address) {
      return rcptCounts.get(address.toLowerCase()) ?? 0;
    },
    dataAttempts() {
      return dataCount;
    },
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() >= deadline) {
          throw new Error(
            `smtp sink: expected ${count} message(s) within ${timeoutMs} ms, got ${messages.length}`,
          );
        }
        await sleep(POLL_INTERVAL_MS);
      }
    },
    reset() {
      messages.length = 0;
      rcptCounts.clear();
      dataCount = 0;
    },
    stop,
    async start() {
      if (closed) throw new Error('smtp sink is closed');
      if (server) throw new Error(`smtp sink on port ${port} is already running`);
      await listen();
    },
    async close() {
      closed = true;
      await stop();
    },
  };
}
