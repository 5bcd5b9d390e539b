import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ConflictError, PeriodicTask } from '@app/common';
import { Sql, SqlRunner } from '../../database/sql';

/** How long a key remembers its answer. */
const KEY_TTL = '24 hours';
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** Expired keys one pruning statement deletes; pruning repeats it until none are left. */
const PRUNE_BATCH = 10_000;
/**
 * A key still `in_progress` and not refreshed for this long belongs to a
 * request that died before storing anything: an identical request may take it over.
 */
const ABANDONED_AFTER_MS = 60_000;
/** How often keys held by this instance's live requests are refreshed, so none looks abandoned. */
const KEEP_ALIVE_MS = ABANDONED_AFTER_MS / 3;

export interface IdempotentRequest {
  key: string;
  /** SHA-256 of what the call asks for, in canonical form. */
  hash: Buffer;
}

/** A key as held by the call that owns it. */
export interface HeldKey {
  workspaceId: string;
  key: string;
  owner: string;
}

export type Begun = { replay: false } | { replay: true; response: unknown };

/** JSON with object keys sorted at every level, so equal bodies hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A key for a call, remembered by `request`: the call's normalized commands, not the bytes of its body. */
export function idempotentRequest(key: string, request: unknown): IdempotentRequest {
  return { key, hash: createHash('sha256').update(canonicalJson(request)).digest() };
}

/**
 * Idempotency-Key handling, per workspace; this module alone reads and writes
 * idempotency_keys. begin() claims the key for an owner (the id of a call)
 * or says what the earlier call with it did. The call's work is stored in a
 * transaction that then completes its key with the answer (complete), and
 * commits only if the call still owned it, so "work done" and "answer
 * remembered" commit together, once. While a request runs, its key is refreshed every
 * KEEP_ALIVE_MS, so a retry cannot take over the key of a request that is
 * only waiting (e.g. in the group-commit queue); and if one ever does (the
 * instance was cut off from the database), the first request can no longer
 * store anything.
 */
@Injectable()
export class IdempotencyService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(IdempotencyService.name);
  private readonly tasks = [
    new PeriodicTask(
      () => this.prune(),
      PRUNE_INTERVAL_MS,
      (error) => this.logger.warn(`Pruning keys failed: ${error.message}`),
    ),
    new PeriodicTask(
      () => this.keepAlive(),
      KEEP_ALIVE_MS,
      (error) => this.logger.warn(`Refreshing keys in use failed: ${error.message}`),
    ),
  ];
  /** Keys claimed by this instance's requests still running, by owner. */
  private readonly held = new Map<string, { workspaceId: string; key: string }>();

  constructor(private readonly sql: Sql) {}

  onApplicationBootstrap(): void {
    this.tasks.forEach((task) => task.start());
  }

  onApplicationShutdown(): void {
    this.tasks.forEach((task) => task.stop());
  }

  /** Claims the key for `owner` until end() or release(), or says what the earlier request with it did. */
  async begin(workspaceId: string, request: IdempotentRequest, owner: string): Promise<Begun> {
    const claimed = await this.sql.one(
      `INSERT INTO idempotency_keys AS k (workspace_id, key, request_hash, status, owner)
       VALUES ($1, $2, $3, 'in_progress', $4)
       ON CONFLICT (workspace_id, key) DO UPDATE
          SET request_hash = EXCLUDED.request_hash, status = 'in_progress', response = NULL,
              owner = EXCLUDED.owner, created_at = now(), updated_at = now()
        WHERE k.created_at < now() - interval '${KEY_TTL}'
           OR (k.status = 'in_progress' AND k.updated_at < now() - interval '${ABANDONED_AFTER_MS} milliseconds'
               AND k.request_hash = EXCLUDED.request_hash)
       RETURNING 1`,
      [workspaceId, request.key, request.hash, owner],
    );
    if (claimed) {
      this.held.set(owner, { workspaceId, key: request.key });
      return { replay: false };
    }

    const existing = await this.sql.one<{ request_hash: Buffer; status: string; response: unknown }>(
      `SELECT request_hash, status, response FROM idempotency_keys WHERE workspace_id = $1 AND key = $2`,
      [workspaceId, request.key],
    );
    if (!existing) return this.begin(workspaceId, request, owner);
    if (!existing.request_hash.equals(request.hash)) {
      throw new ConflictError(
        'This Idempotency-Key was used with a different request body in the last 24 hours',
        'idempotency_key_reused',
      );
    }
    if (existing.status !== 'done') {
      throw new ConflictError(
        'A request with this Idempotency-Key is still being processed',
        'idempotency_request_in_progress',
      );
    }
    return { replay: true, response: existing.response };
  }

  /**
   * In the transaction that stored the calls' work, after it: the keys still
   * held (`in_progress`) by their owners remember their answers. Answers
   * those owners; a call whose key was taken over by a retry is not among
   * them, and its work must not commit.
   */
  async complete(tx: SqlRunner, done: (HeldKey & { response: unknown })[]): Promise<Set<string>> {
    const rows = await tx.rows<{ owner: string }>(
      `UPDATE idempotency_keys k SET status = 'done', response = d.response::jsonb, updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[]) AS d(workspace_id, key, owner, response)
        WHERE k.workspace_id = d.workspace_id AND k.key = d.key AND k.owner = d.owner
          AND k.status = 'in_progress'
       RETURNING k.owner`,
      [
        done.map((d) => d.workspaceId),
        done.map((d) => d.key),
        done.map((d) => d.owner),
        done.map((d) => JSON.stringify(d.response)),
      ],
      'idempotency-complete',
    );
    return new Set(rows.map((r) => r.owner));
  }

  /** The call of `owner` ended; its key was completed (or not) by the transaction that stored its work. */
  end(owner: string): void {
    this.held.delete(owner);
  }

  /** Frees a key whose request failed, if `owner` still holds it, so the client can retry with it. */
  async release(workspaceId: string, key: string, owner: string): Promise<void> {
    this.held.delete(owner);
    await this.sql.exec(
      `DELETE FROM idempotency_keys
        WHERE workspace_id = $1 AND key = $2 AND owner = $3 AND status = 'in_progress'`,
      [workspaceId, key, owner],
    );
  }

  /** Refreshes the keys of this instance's running requests, in one statement. */
  async keepAlive(): Promise<void> {
    if (this.held.size === 0) return;
    const held = [...this.held];
    await this.sql.exec(
      `UPDATE idempotency_keys k SET updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS h(workspace_id, key, owner)
        WHERE k.workspace_id = h.workspace_id AND k.key = h.key AND k.owner = h.owner
          AND k.status = 'in_progress'`,
      [held.map(([, h]) => h.workspaceId), held.map(([, h]) => h.key), held.map(([owner]) => owner)],
    );
  }

  /** Forgets keys older than 24 hours, PRUNE_BATCH at a time until none are left; answers how many. */
  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.sql.exec(
        `DELETE FROM idempotency_keys WHERE ctid IN (
           SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '${KEY_TTL}' LIMIT $1)`,
        [PRUNE_BATCH],
      );
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  }
}
