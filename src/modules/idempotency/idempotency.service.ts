import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ConflictError } from '@app/common';
import { Sql } from '../../database/sql';

/** How long a key remembers its answer. */
const KEY_TTL = '24 hours';
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** A request still `in_progress` after this long died before storing anything: its key may be taken over. */
const ABANDONED_AFTER = '60 seconds';

export interface IdempotentRequest {
  key: string;
  /** SHA-256 of the request body in canonical form. */
  hash: Buffer;
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

export function idempotentRequest(key: string, body: unknown): IdempotentRequest {
  return { key, hash: createHash('sha256').update(canonicalJson(body)).digest() };
}

/**
 * Idempotency-Key handling, per workspace. begin() claims the key or says
 * what the earlier request with it did; the answer itself is stored by the
 * same statement that stores the request's work (see MessagesRepository), so
 * "work done" and "answer remembered" commit together.
 */
@Injectable()
export class IdempotencyService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(IdempotencyService.name);
  private pruneTimer?: NodeJS.Timeout;

  constructor(private readonly sql: Sql) {}

  onApplicationBootstrap(): void {
    this.pruneTimer = setInterval(
      () =>
        void this.prune().catch((error: Error) => this.logger.warn(`Pruning keys failed: ${error.message}`)),
      PRUNE_INTERVAL_MS,
    );
    this.pruneTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruneTimer);
  }

  async begin(workspaceId: string, request: IdempotentRequest): Promise<Begun> {
    const claimed = await this.sql.one(
      `INSERT INTO idempotency_keys AS k (workspace_id, key, request_hash, status)
       VALUES ($1, $2, $3, 'in_progress')
       ON CONFLICT (workspace_id, key) DO UPDATE
          SET request_hash = EXCLUDED.request_hash, status = 'in_progress', response = NULL,
              created_at = now(), updated_at = now()
        WHERE k.created_at < now() - interval '${KEY_TTL}'
           OR (k.status = 'in_progress' AND k.updated_at < now() - interval '${ABANDONED_AFTER}'
               AND k.request_hash = EXCLUDED.request_hash)
       RETURNING 1`,
      [workspaceId, request.key, request.hash],
    );
    if (claimed) return { replay: false };

    const existing = await this.sql.one<{ request_hash: Buffer; status: string; response: unknown }>(
      `SELECT request_hash, status, response FROM idempotency_keys WHERE workspace_id = $1 AND key = $2`,
      [workspaceId, request.key],
    );
    if (!existing) return this.begin(workspaceId, request);
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

  /** Frees a key whose request failed, so the client can retry with it. */
  async release(workspaceId: string, key: string): Promise<void> {
    await this.sql.exec(
      `DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2 AND status = 'in_progress'`,
      [workspaceId, key],
    );
  }

  /** Forgets keys older than 24 hours. */
  async prune(limit = 10000): Promise<number> {
    return this.sql.exec(
      `DELETE FROM idempotency_keys WHERE ctid IN (
         SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '${KEY_TTL}' LIMIT $1)`,
      [limit],
    );
  }
}
