import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SMTPServer, SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { closeSmtp, listenSmtp, listeningPort, readBounded, SmtpReply } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { InboundQueue } from './inbound.queue';
import { InboundReportsRepository } from './inbound-reports.repository';

/** The largest message the listener takes (SPEC §13), advertised as SIZE. */
export const MAX_REPORT_BYTES = 10 * 1024 * 1024;
/** Recipients one transaction may name; a report has one, an MTA batching a few more. */
const MAX_RECIPIENTS = 100;
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The listener's replies: each an error with its `responseCode` (one without
 * would go out as 450), the enhanced status first in the text.
 */
const REPLIES = {
  notOurs: () => new SmtpReply(550, '5.7.1', 'This server accepts mail only for its bounce domain'),
  tooManyRecipients: () => new SmtpReply(452, '4.5.3', 'Too many recipients'),
  tooBig: () => new SmtpReply(552, '5.3.4', `Message exceeds the maximum size of ${MAX_REPORT_BYTES} bytes`),
  notStored: () => new SmtpReply(451, '4.3.0', 'Message not stored, try again later'),
};

/**
 * The inbound listener (SPEC §13) on INBOUND_SMTP_PORT, in the worker and
 * `all` roles: the MX of BOUNCE_DOMAIN. No AUTH, no STARTTLS (smtp-server
 * would offer it with its built-in certificate), mail only for addresses at
 * BOUNCE_DOMAIN, at most 10 MB. Each message is stored in PostgreSQL before
 * the 250, then processed from the queue: a burst never blocks the
 * listener, and a crash loses nothing the sender was told was taken.
 */
@Injectable()
export class InboundSmtpServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InboundSmtpServer.name);
  private server: SMTPServer | null = null;
  private readonly storing = new Set<Promise<unknown>>();

  constructor(
    private readonly reports: InboundReportsRepository,
    private readonly queue: InboundQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { inboundPort: port, domain } = this.config.bounce;
    if (port === null) return;
    if (!domain) {
      this.logger.warn('INBOUND_SMTP_PORT is set without BOUNCE_DOMAIN: the inbound listener stays off');
      return;
    }
    const server = new SMTPServer({
      banner: 'Leadpush inbound',
      size: MAX_REPORT_BYTES,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      hideSTARTTLS: true,
      logger: false,
      onRcptTo: (address, session, done: (error?: Error | null) => void) =>
        done(this.onRcptTo(address, session, domain)),
      onData: (stream, session, done: (error: Error | null, message?: string) => void) =>
        void this.onData(stream, session).then((reply) => done(null, reply), done),
    });
    server.on('error', (error) => this.logger.warn(`Inbound listener: ${error.message}`));
    await listenSmtp(server, port);
    this.server = server;
    this.logger.log(`Inbound listener for ${domain} on port ${this.port()}`);
  }

  /** The port it listens on (INBOUND_SMTP_PORT, or the one picked for 0); null when off. */
  port(): number | null {
    return listeningPort(this.server);
  }

  /** On SIGTERM: no new connections; messages being stored are answered, then the others are closed. */
  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await closeSmtp(server, this.storing, SHUTDOWN_GRACE_MS);
  }

  private onRcptTo(
    address: SMTPServerAddress,
    session: SMTPServerSession,
    domain: string,
  ): Error | undefined {
    const at = address.address.lastIndexOf('@');
    if (at < 0 || address.address.slice(at + 1).toLowerCase() !== domain) return REPLIES.notOurs();
    if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return REPLIES.tooManyRecipients();
    return undefined;
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const raw = await readBounded(stream, MAX_REPORT_BYTES);
    // smtp-server's `size` only advertises the limit; the stream says whether it was passed.
    if (raw === null || stream.sizeExceeded) throw REPLIES.tooBig();
    const { mailFrom, rcptTo } = session.envelope;
    const stored = this.reports.store(
      mailFrom ? mailFrom.address : '',
      rcptTo.map((r) => r.address),
      raw,
    );
    this.storing.add(stored);
    let id: string;
    try {
      id = await stored;
    } catch (error) {
      this.logger.warn(`Inbound listener: a report was not stored: ${(error as Error).message}`);
      throw REPLIES.notStored();
    } finally {
      this.storing.delete(stored);
    }
    void this.queue.add([id]);
    return `2.0.0 Received as ${id}`;
  }
}
