import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AppError,
  ConflictError,
  GroupCommit,
  isConnectionLost,
  isDataError,
  ServiceUnavailableError,
  TtlCache,
  UnprocessableError,
  ValidationFailedError,
} from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AddressesService } from '../addresses/addresses.service';
import type { SenderAddress } from '../addresses/sender-address';
import { ContactsService } from '../contacts/contacts.service';
import { DeliveryProducer } from '../delivery/delivery.producer';
import { IdempotencyService, IdempotentRequest } from '../idempotency/idempotency.service';
import { AcceptedRequest, MessagesRepository } from '../messages/messages.repository';
import { Acceptance, contentSize, toAcceptedRequest } from './acceptance';
import { AcceptedEmailDto, SendEmailDto } from './dto/send-email.dto';
import { planRecipients } from './recipients';

/** A request's answer, or why it was not stored while the rest of its batch was. */
type Outcome = AcceptedEmailDto | AppError;

const MB = 1024 * 1024;
/** Seconds a client is asked to wait when this instance has too many requests waiting. */
const QUEUE_FULL_RETRY_AFTER_S = 1;

/**
 * Requests written by one statement at the most, and such statements at once.
 * Sizes count the characters of a request's content: pg builds each array
 * parameter as one string, so a statement carries at most 16 M characters;
 * the requests waiting for a statement hold at most 64 M.
 */
const BATCH = { maxBatch: 64, maxConcurrent: 4, maxBatchSize: 16 * MB, maxWaitingSize: 64 * MB };

/**
 * Accepts emails (SPEC §7): one message per unique recipient, stored with the
 * content before the answer, then queued.
 *
 * The hot path per request: the API key and the sender come from short-lived
 * caches (AUTH_CACHE_TTL_MS; delivery checks the sender again), and concurrent
 * requests are written by group commit: one contacts lookup, one insert
 * statement and one Redis call serve every request of a batch. A value the
 * database refuses fails only its own request (422); a lost connection fails
 * the batch (503) after one repeat of its statement, which the ids planned
 * up front make safe.
 */
@Injectable()
export class EmailsService {
  private readonly logger = new Logger(EmailsService.name);
  private readonly senders: TtlCache<string, SenderAddress>;
  private readonly accepts: GroupCommit<Acceptance, Outcome>;

  constructor(
    private readonly addresses: AddressesService,
    private readonly contacts: ContactsService,
    private readonly messages: MessagesRepository,
    private readonly producer: DeliveryProducer,
    private readonly idempotency: IdempotencyService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.senders = new TtlCache(config.authCacheTtlMs);
    this.accepts = new GroupCommit((batch) => this.acceptBatch(batch), {
      ...BATCH,
      maxWaiting: config.sendQueueLimit,
      size: contentSize,
      isolate: isDataError,
      full: () =>
        new ServiceUnavailableError(
          'Too many requests are waiting to be stored; retry shortly',
          {},
          QUEUE_FULL_RETRY_AFTER_S,
        ),
    });
  }

  /**
   * With an idempotency key, a repeat of an earlier request answers that
   * request's result (`replayed`) and creates nothing.
   */
  async send(
    workspaceId: string,
    dto: SendEmailDto,
    idempotency: IdempotentRequest | null = null,
    requestId?: string,
  ): Promise<{ result: AcceptedEmailDto; replayed: boolean }> {
    const id = randomUUID();
    if (idempotency) {
      const begun = await this.idempotency.begin(workspaceId, idempotency, id);
      if (begun.replay) return { result: begun.response as AcceptedEmailDto, replayed: true };
    }
    try {
      const sender = await this.sendableSender(workspaceId, dto.from);
      const result = await this.accepts.submit({
        id,
        workspaceId,
        requestId,
        dto,
        recipients: planRecipients(dto.to, dto.bcc).map((r) => ({ ...r, id: randomUUID() })),
        sender,
        idempotencyKey: idempotency?.key ?? null,
      });
      if (result instanceof AppError) throw result;
      return { result, replayed: false };
    } catch (error) {
      // A key left behind frees itself once its request looks abandoned.
      if (idempotency)
        await this.idempotency.release(workspaceId, idempotency.key, id).catch(() => undefined);
      if (!isDataError(error)) throw error;
      this.logger.warn(`The database refused a validated request (${describeRefusal(error)})`);
      throw notStorable();
    } finally {
      this.idempotency.end(id);
    }
  }

  private async sendableSender(workspaceId: string, from: string): Promise<SenderAddress> {
    const key = `${workspaceId} ${from}`;
    const cached = this.senders.get(key);
    if (cached) return cached;
    const sender = await this.addresses.findSendable(workspaceId, from);
    if (!sender) {
      throw new UnprocessableError(
        'sender_not_verified',
        `${from} is not a sendable address of this workspace: create it on a verified domain`,
      );
    }
    this.senders.set(key, sender);
    return sender;
  }

  /** Stores and queues a batch of requests; one outcome per request, in order. */
  private async acceptBatch(batch: Acceptance[]): Promise<Outcome[]> {
    const contacts = await this.contacts.findRecipients(
      batch.flatMap(({ workspaceId, recipients }) => recipients.map(({ email }) => ({ workspaceId, email }))),
    );
    let next = 0;
    const accepted = batch.map((acceptance) => {
      const own = contacts.slice(next, next + acceptance.recipients.length);
      next += acceptance.recipients.length;
      return { ...toAcceptedRequest(acceptance, own), requestId: acceptance.requestId };
    });

    const stored = await this.store(accepted.map((a) => a.request));
    await this.producer.enqueue(
      accepted
        .filter(({ request }) => stored.has(request.id))
        .flatMap(({ request, requestId }) => request.messages.map((m) => ({ messageId: m.id, requestId }))),
    );
    return accepted.map(({ request, result }) => (stored.has(request.id) ? result : keyTakenOver()));
  }

  /**
   * Inserts the requests; when the connection drops, once more: the first
   * statement may have committed unseen, and the same ids make the repeat
   * store nothing twice and read back what is stored.
   */
  private async store(requests: AcceptedRequest[]): Promise<Set<string>> {
    try {
      return await this.messages.insertRequests(requests);
    } catch (error) {
      if (!isConnectionLost(error)) throw error;
      return this.messages.insertRequests(requests, true);
    }
  }
}

/** A value passed validation but the database refused it (a data or integrity error of this request alone). */
const notStorable = () =>
  new ValidationFailedError([
    { field: 'body', message: 'the request contains a value that cannot be stored' },
  ]);

/** Which rule of the schema refused a value: names only, never the values. */
function describeRefusal(error: unknown): string {
  const { code, table, column, constraint } = error as Record<string, unknown>;
  const names = Object.entries({ table, column, constraint }).filter(([, name]) => typeof name === 'string');
  return [`SQLSTATE ${String(code)}`, ...names.map(([what, name]) => `${what} ${String(name)}`)].join(', ');
}

/** An identical request took this request's Idempotency-Key over while it waited; that one is stored instead. */
const keyTakenOver = () =>
  new ConflictError(
    'A request with this Idempotency-Key is still being processed',
    'idempotency_request_in_progress',
  );
