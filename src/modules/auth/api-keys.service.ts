import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConflictError, listPage, NotFoundError, Page, PageQueryDto, TtlCache } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import {
  ApiKeyMode,
  hashApiKeyToken,
  isApiKeyToken,
  newApiKeyToken,
  shownTokenPrefix,
} from './api-key-token';
import type { AuthContext } from './auth-context';
import { ApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';
import { ApiKey } from './entities/api-key.entity';

/** Most unrevoked keys a workspace may have: each key has its own rate limit. */
const MAX_ACTIVE_API_KEYS = 100;

/**
 * Workspace API keys. Tokens are random, shown once, stored as SHA-256. A
 * verified key is cached for AUTH_CACHE_TTL_MS together with its workspace
 * owner's state; revocation in this process evicts at once, other instances
 * see it within the TTL. A workspace has at most MAX_ACTIVE_API_KEYS
 * unrevoked keys.
 */
@Injectable()
export class ApiKeysService {
  private readonly cache: TtlCache<string, AuthContext>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.cache = new TtlCache(config.authCacheTtlMs);
  }

  /** 404 for an unknown workspace, 409 `conflict` when it already has MAX_ACTIVE_API_KEYS keys. */
  async create(workspaceId: string, name: string, mode: ApiKeyMode = 'live'): Promise<CreatedApiKeyDto> {
    const token = newApiKeyToken(mode);
    return this.db.transaction(async (tx) => {
      // The row lock makes concurrent creations of one workspace count one after the other.
      const [workspace] = await tx.query(`SELECT 1 FROM workspaces WHERE id = $1 FOR NO KEY UPDATE`, [
        workspaceId,
      ]);
      if (!workspace) throw new NotFoundError('Workspace');
      const [{ active }] = await tx.query(
        `SELECT count(*)::int AS active FROM api_keys WHERE workspace_id = $1 AND revoked_at IS NULL`,
        [workspaceId],
      );
      if (active >= MAX_ACTIVE_API_KEYS) {
        throw new ConflictError(
          `The workspace already has ${MAX_ACTIVE_API_KEYS} active API keys; revoke one to create another`,
        );
      }
      const key = await tx.getRepository(ApiKey).save({
        workspaceId,
        name,
        mode,
        tokenPrefix: shownTokenPrefix(token, mode),
        tokenHash: hashApiKeyToken(token),
        revokedAt: null,
      });
      return { id: key.id, name: key.name, mode: key.mode, token };
    });
  }

  async list(workspaceId: string, page: PageQueryDto): Promise<Page<ApiKeyDto>> {
    const query = this.db
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .where('k.workspace_id = :workspaceId AND k.revoked_at IS NULL', { workspaceId });
    return listPage(query, page, ApiKeyDto.from);
  }

  async revoke(workspaceId: string, id: string): Promise<void> {
    const result = await this.db.query(
      `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND workspace_id = $2 AND revoked_at IS NULL`,
      [id, workspaceId],
    );
    if (result[1] === 0) throw new NotFoundError('API key');
    this.cache.deleteWhere((auth) => auth.apiKeyId === id);
  }

  /** The AuthContext of a valid, unrevoked token; null otherwise (with no query for a token not shaped like one). */
  async authenticate(token: string): Promise<AuthContext | null> {
    if (!isApiKeyToken(token)) return null;
    const hash = hashApiKeyToken(token);
    const cacheKey = hash.toString('base64');
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const [row] = await this.db.query(
      `SELECT k.id AS key_id, k.workspace_id, k.mode, u.id AS owner_id, u.email_verified, u.features
         FROM api_keys k
         JOIN workspaces w ON w.id = k.workspace_id
         JOIN users u ON u.id = w.owner_id
        WHERE k.token_hash = $1 AND k.revoked_at IS NULL`,
      [hash],
    );
    if (!row) {
      this.cache.delete(cacheKey);
      return null;
    }
    const auth: AuthContext = {
      workspaceId: row.workspace_id,
      apiKeyId: row.key_id,
      mode: row.mode,
      owner: { id: row.owner_id, emailVerified: row.email_verified, features: row.features },
    };
    this.cache.set(cacheKey, auth);
    return auth;
  }

  /** Drops cached keys of a user's workspaces after the user changed. */
  forgetOwner(userId: string): void {
    this.cache.deleteWhere((auth) => auth.owner.id === userId);
  }
}
