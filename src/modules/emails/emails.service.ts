import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AppError,
  ConflictError,
  GroupCommit,
  isConnectionLost,
  isDataError,
  ServiceUnavailableError,
  ValidationFailedError,
} from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { Sql } from '../../database/sql';
import { AddressesService } from '../addresses/addresses.service';
import type { SenderAddress } from '../addresses/sender-address';
import { ContactsService } from '../contacts/contacts.service';
import { DeliveryProducer } from '../delivery/delivery.producer';
import { idempotentRequest, IdempotencyService } from '../idempotency/idempotency.service';
import { MessageEventFeed } from '../messages/message-event-feed';
import { AcceptedRequest, MessagesRepository } from '../messages/messages.repository';
import { MetricsService } from '../metrics/metrics.service';
import { Call, contentSize, toAcceptedRequest } from './acceptance';
import type { AcceptedEmailDto } from './dto/send-email.dto';
import { fingerprint, SendCommand } from './send-command';
import { senderNotVerified, sendersNotVerified } from './send-policy';

/** A call's answers, or why it was not stored while the rest of its flush was. */
type Outcome = AcceptedEmailDto[] | AppError;

const MB = 1024 * 1024;
/** Seconds a client is asked to wait when this instance has too many requests waiting. */
const QUEUE_FULL_RETRY_AFTER_S = 1;

/**
 * Calls written by one flush at the most, and such flushes at once. Sizes
 * count the characters of a call's content: pg builds each array parameter
 * as one string, so a statement carries at most 16 M characters; the calls
 * waiting for a flush hold at most 64 M.
 */
const BATCH = { maxBatch: 64, maxConcurrent: 4, maxBatchSize: 16 * MB, maxWaitingSize: 64 * MB };

export interface AcceptOptions {
  /** The call's Idempotency-Key: one for all its commands. */
  idempotencyKey?: string | null;
  /** The HTTP request's id, for the logs. */
  requestId?: string;
  /**
   * A batch (SPEC §10): a refused sender is named by `field(i)` of its
   * command, all of them in one error; the key remembers the list of answers.
   */
  batch?: { field: (index: number) => string };
}

interface PreparedCall {
  call: Call;
  requests: AcceptedRequest[];
  results: AcceptedEmailDto[];
}

/** Rolls back a write whose calls include some that lost their keys to a retry. */
class KeysLost extends Error {
  constructor(readonly calls: PreparedCall[]) {
    super('Idempotency keys were taken over');
  }
}

/**
 * Accepts sends (SPEC §7, §10): accept() takes the commands of one call,
 * already through the body rules (send-rules.ts), checks their senders
 * (step 5), and stores every message of every command in one transaction
 * before answering, one answer per command; what is due now is queued
 * meanwhile, not awaited (a scheduled message waits in PostgreSQL).
 *
 * The hot path: the API key and the sender come from short-lived caches
 * (AUTH_CACHE_TTL_MS; delivery checks the sender again), and concurrent calls
 * are written by group commit: one contacts lookup, one insert statement and
 * one Redis call serve every call of a flush (with idempotency keys, the
 * flush is one transaction: insert, complete the keys, commit). A call is
 * indivisible: a value the database refuses fails only its own call (422);
 * a lost connection fails the flush (503) after one repeat, which the ids
 * planned up front make safe.
 */
@Injectable()
export class EmailsService {
  private readonly logger = new Logger(EmailsService.name);
  private readonly accepts: GroupCommit<Call, Outcome>;

  constructor(
    private readonly sql: Sql,
    private readonly addresses: AddressesService,
    private readonly contacts: ContactsService,
    private readonly messages: MessagesRepository,
    private readonly producer: DeliveryProducer,
    private readonly idempotency: IdempotencyService,
    private readonly events: MessageEventFeed,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.accepts = new GroupCommit((calls) => this.flush(calls), {
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
   * Stores the commands of one call (all of `workspaceId`) and answers for
   * each, in order. With an idempotency key, a repeat of an earlier call
   * answers that call's results (`replayed`) and creates nothing.
   */
  async accept(
    workspaceId: string,
    commands: SendCommand[],
    options: AcceptOptions = {},
  ): Promise<{ results: AcceptedEmailDto[]; replayed: boolean }> {
    const id = randomUUID();
    const key = options.idempotencyKey ?? null;
    const batch = options.batch !== undefined;
    if (key) {
      const remembered = { batch, commands: fingerprint(commands) };
      const begun = await this.idempotency.begin(workspaceId, idempotentRequest(key, remembered), id);
      if (begun.replay) {
        const response = begun.response as AcceptedEmailDto | AcceptedEmailDto[];
        return { results: Array.isArray(response) ? response : [response], replayed: true };
      }
    }
    try {
      const senders = await this.sendableSenders(workspaceId, commands, options.batch);
      const outcome = await this.accepts.submit({
        id,
        workspaceId,
        requestId: options.requestId,
        sends: commands.map((command, i) => ({
          id: randomUUID(),
          command,
          recipients: command.recipients.map((r) => ({ ...r, id: randomUUID() })),
          sender: senders[i],
        })),
        idempotencyKey: key,
        batch,
      });
      if (outcome instanceof AppError) throw outcome;
      return { results: outcome, replayed: false };
    } catch (error) {
      // A key left behind frees itself once its call looks abandoned.
      if (key) await this.idempotency.release(workspaceId, key, id).catch(() => undefined);
      if (!isDataError(error)) throw error;
      this.logger.warn(`The database refused a validated request (${describeRefusal(error)})`);
      throw notStorable();
    } finally {
      this.idempotency.end(id);
    }
  }

  /** Step 5 for every command: its sender, or one refusal naming every command whose `from` is not sendable. */
  private async sendableSenders(
    workspaceId: string,
    commands: SendCommand[],
    batch: AcceptOptions['batch'],
  ): Promise<SenderAddress[]> {
    const senders = await Promise.all(
      commands.map((c) => this.addresses.findSendableCached(workspaceId, c.from)),
    );
    const failing = commands.flatMap((_, i) => (senders[i] ? [] : [i]));
    if (failing.length === 0) return senders as SenderAddress[];
    if (!batch) throw senderNotVerified(commands[failing[0]].from);
    throw sendersNotVerified(failing.map((i) => ({ field: batch.field(i), from: commands[i].from })));
  }

  /**
   * Stores the calls of one flush and queues them; one outcome per call, in
   * order. The calls are answered once stored, without waiting for Redis:
   * what is stored is delivered, and the sweeper queues what Redis missed.
   */
  private async flush(calls: Call[]): Promise<Outcome[]> {
    const contacts = await this.contacts.findRecipients(
      calls.flatMap(({ sends }) =>
        sends.flatMap(({ command, recipients }) =>
          recipients.map(({ email }) => ({ workspaceId: command.workspaceId, email })),
        ),
      ),
    );
    const now = new Date();
    let next = 0;
    const prepared: PreparedCall[] = calls.map((call) => {
      const accepted = call.sends.map((send) => {
        const own = contacts.slice(next, next + send.recipients.length);
        next += send.recipients.length;
        return toAcceptedRequest(send, own, now);
      });
      return { call, requests: accepted.map((a) => a.request), results: accepted.map((a) => a.result) };
    });

    const stored = await this.store(prepared);
    this.count(prepared.filter(({ call }) => stored.has(call.id)));
    void this.producer.enqueueRequests(
      prepared
        .filter(({ call }) => stored.has(call.id))
        .flatMap(({ call, requests }) =>
          requests
            .filter((r) => r.status === 'pending')
            .map((r) => ({
              emailRequestId: r.id,
              messageIds: r.messages.map((m) => m.id),
              requestId: call.requestId,
            })),
        ),
    );
    return prepared.map(({ call, results }) => (stored.has(call.id) ? results : keyTakenOver()));
  }

  /** The stored messages and their first events, for the metrics. */
  private count(stored: PreparedCall[]): void {
    for (const { requests } of stored) {
      for (const { source, status, messages } of requests) {
        this.metrics.countAccepted(source, messages.length);
        this.events.recorded(status, messages.length);
      }
    }
  }

  /**
   * Writes the calls; when the connection drops, once more: the first write
   * may have committed unseen, and the same ids make the repeat store nothing
   * twice; what is stored is then read back. Answers the ids of the calls stored.
   */
  private async store(prepared: PreparedCall[]): Promise<Set<string>> {
    try {
      return await this.write(prepared);
    } catch (error) {
      if (!isConnectionLost(error)) throw error;
      await this.write(prepared);
      const stored = await this.messages.storedRequests(prepared.map(({ requests }) => requests[0].id));
      return new Set(
        prepared.filter(({ requests }) => stored.has(requests[0].id)).map(({ call }) => call.id),
      );
    }
  }

  /**
   * One transaction: the messages of every call, and the keys of the calls
   * that have one completed with their answers. Should a call have lost its
   * key to a retry meanwhile, the transaction is rolled back and written
   * again without that call. Without keys, this is the one insert statement.
   * (The work is inserted before the keys are touched, so a call waiting for
   * the insert holds no lock on its key.)
   */
  private async write(prepared: PreparedCall[]): Promise<Set<string>> {
    const requests = prepared.flatMap((p) => p.requests);
    const keyed = prepared.filter(({ call }) => call.idempotencyKey);
    if (keyed.length === 0) {
      await this.messages.insertRequests(this.sql, requests);
      return new Set(prepared.map(({ call }) => call.id));
    }
    const lost: PreparedCall[] = await this.sql
      .transaction(async (tx) => {
        await this.messages.insertRequests(tx, requests);
        const owned = await this.idempotency.complete(
          tx,
          keyed.map(({ call, results }) => ({
            workspaceId: call.workspaceId,
            key: call.idempotencyKey as string,
            owner: call.id,
            response: call.batch ? results : results[0],
          })),
        );
        const notOwned = keyed.filter(({ call }) => !owned.has(call.id));
        if (notOwned.length > 0) throw new KeysLost(notOwned);
        return [];
      })
      .catch((error: unknown) => {
        if (error instanceof KeysLost) return error.calls;
        throw error;
      });
    return lost.length === 0
      ? new Set(prepared.map(({ call }) => call.id))
      : this.write(prepared.filter((p) => !lost.includes(p)));
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
