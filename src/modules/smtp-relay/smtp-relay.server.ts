import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import {
  SMTPServer,
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerDataStream,
  SMTPServerSession,
} from 'smtp-server';
import {
  closeSmtp,
  isValidEmail,
  listenSmtp,
  listeningPort,
  normalizeEmail,
  readBounded,
  SmtpReply,
} from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { RateLimiter } from '../../redis/rate-limiter';
import { ApiKeysService } from '../auth/api-keys.service';
import type { AuthContext } from '../auth/auth-context';
import { EmailsService } from '../emails/emails.service';
import { sendingRefusal } from '../emails/send-policy';
import { MAX_RECIPIENTS } from '../emails/send-rules';
import { relayDraft, topHeaders } from './relay-message';
import { ownReply, RELAY_REPLIES, replyOf } from './relay-replies';

/** The largest message the relay takes (SPEC §11), advertised as SIZE. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** Longest a shutdown waits for the messages being stored before it closes the remaining connections. */
const SHUTDOWN_GRACE_MS = 10_000;

/** What AUTH leaves on a session: the key it gave, looked up again (through the cache) for every message. */
interface RelayUser {
  token: string;
  auth: AuthContext;
}

type Done = (error?: Error | null) => void;

/**
 * The SMTP relay ingress (SPEC §11), on SMTP_RELAY_PORT: one more door in
 * front of EmailsService.accept. AUTH takes an API key as the password (the
 * HTTP guard's lookup and cache); MAIL FROM checks the key again, the owner
 * (§7 steps 2, 3) and the key's rate limit; RCPT TO the address and the
 * recipient limit; the end of DATA the size, the headers and the sender, and
 * answers 250 only once the messages are stored.
 */
@Injectable()
export class SmtpRelayServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SmtpRelayServer.name);
  private server: SMTPServer | null = null;
  /** Messages being stored: a shutdown lets them finish and answer. */
  private readonly storing = new Set<Promise<unknown>>();

  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly rateLimiter: RateLimiter,
    private readonly emails: EmailsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { port, tls } = this.config.smtpRelay;
    if (port === null) return;
    const server = new RelaySmtpServer({
      banner: 'Leadpush SMTP relay',
      size: MAX_MESSAGE_BYTES,
      authMethods: ['PLAIN', 'LOGIN'],
      authRequiredMessage: RELAY_REPLIES.authRequired,
      // Addresses are checked by our rule (553 5.1.3), not refused by smtp-server's stricter syntax (501).
      lenientAddressParsing: true,
      logger: false,
      // smtp-server would otherwise offer STARTTLS with a built-in self-signed certificate.
      ...(tls
        ? { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile), allowInsecureAuth: false }
        : { hideSTARTTLS: true, disabledCommands: ['STARTTLS'], allowInsecureAuth: true }),
      onAuth: (auth, session, done) =>
        void this.onAuth(auth, session).then(
          (user) => done(null, user),
          (error: unknown) => done(this.temporary(error, RELAY_REPLIES.authUnavailable)),
        ),
      onMailFrom: (_address, session, done: Done) =>
        void this.onMailFrom(session).then(
          () => done(),
          (error: unknown) => done(this.temporary(error, RELAY_REPLIES.unavailable)),
        ),
      onRcptTo: (address, session, done: Done) => done(this.onRcptTo(address, session)),
      onData: (stream, session, done: (error: Error | null, message?: string) => void) =>
        void this.onData(stream, session).then((reply) => done(null, reply), done),
    });
    server.on('error', (error) => this.logger.warn(`SMTP relay: ${error.message}`));
    await listenSmtp(server, port);
    this.server = server;
    if (!tls) {
      this.logger.warn(
        'SMTP relay without SMTP_RELAY_TLS_CERT/_KEY: AUTH (the API key) travels in plain text; use it only locally',
      );
    }
    this.logger.log(`SMTP relay listening on port ${this.port()}`);
  }

  /** The port the relay listens on (SMTP_RELAY_PORT, or the one picked for 0); null when it is off. */
  port(): number | null {
    return listeningPort(this.server);
  }

  /**
   * No new connections or commands; the messages being stored are answered,
   * then the remaining connections are closed.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await closeSmtp(server, this.storing, SHUTDOWN_GRACE_MS);
  }

  /** The reply to an error; one that is not a refusal (the database unreachable) is `fallback`'s 4xx, and logged. */
  private temporary(error: unknown, fallback: () => SmtpReply): SmtpReply {
    const reply = replyOf(error, fallback);
    if (reply.responseCode < 500 && !(error instanceof SmtpReply)) {
      this.logger.warn(`SMTP relay: ${reply.message}: ${(error as Error).message}`);
    }
    return reply;
  }

  private async onAuth(
    auth: SMTPServerAuthentication,
    _session: SMTPServerSession,
  ): Promise<SMTPServerAuthenticationResponse> {
    const token = auth.password ?? '';
    const context = await this.apiKeys.authenticate(token);
    if (!context) throw RELAY_REPLIES.badCredentials();
    const user: RelayUser = { token, auth: context };
    return { user };
  }

  private async onMailFrom(session: SMTPServerSession): Promise<void> {
    const user = session.user as RelayUser;
    const auth = await this.apiKeys.authenticate(user.token);
    if (!auth) throw RELAY_REPLIES.badCredentials();
    user.auth = auth;
    const refusal = sendingRefusal(auth.owner);
    if (refusal) throw replyOf(refusal);
    const limit = await this.rateLimiter.hit(auth);
    if (!limit.allowed) throw RELAY_REPLIES.rateLimited();
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): SmtpReply | undefined {
    const email = normalizeEmail(address.address);
    if (!isValidEmail(email)) return RELAY_REPLIES.invalidRecipient(address.address);
    const unique = new Set(session.envelope.rcptTo.map((r) => normalizeEmail(r.address)));
    if (!unique.has(email) && unique.size >= MAX_RECIPIENTS) {
      return RELAY_REPLIES.tooManyRecipients(MAX_RECIPIENTS);
    }
    return undefined;
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const raw = await readBounded(stream, MAX_MESSAGE_BYTES);
    // smtp-server's `size` only advertises the limit; the stream says whether it was passed.
    if (raw === null || stream.sizeExceeded) throw RELAY_REPLIES.tooBig(MAX_MESSAGE_BYTES);
    const stored = this.store(raw, session).catch((error: unknown) => {
      throw this.temporary(error, RELAY_REPLIES.notStored);
    });
    this.storing.add(stored);
    try {
      return await stored;
    } finally {
      this.storing.delete(stored);
    }
  }

  private async store(raw: Buffer, session: SMTPServerSession): Promise<string> {
    const { auth } = session.user as RelayUser;
    const envelope = session.envelope.rcptTo.map((r) => r.address);
    const headers = await topHeaders(raw);
    if (headers instanceof SmtpReply) throw headers;
    const draft = relayDraft(raw, headers, envelope);
    if (draft instanceof SmtpReply) throw draft;
    const { results } = await this.emails.accept(auth.workspaceId, [
      { ...draft, workspaceId: auth.workspaceId, source: 'smtp', test: auth.mode === 'test' },
    ]);
    return `2.0.0 Accepted: ${results[0].message_count} message(s) stored`;
  }
}

/**
 * smtp-server whose own refusals (a recipient it cannot parse, a SIZE= over
 * the limit) go out in §11's codes: each connection's `send` passes through
 * `ownReply`.
 */
class RelaySmtpServer extends SMTPServer {
  override connect(socket: Socket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    super.connect(socket, socketOptions);
    let connection: SMTPServerConnection | undefined;
    for (const open of this.connections) connection = open;
    if (!connection) return;
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) => {
      if (typeof data !== 'string' || typeof context !== 'string') return send(code, data, context);
      const reply = ownReply(code, data, context);
      return send(reply.code, reply.text, context);
    };
  }
}

type SMTPServerConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;
