import { Injectable, NestMiddleware } from '@nestjs/common';
import { RateLimitedError, UnauthorizedError } from '@app/common';
import { RateLimiter } from '../../redis/rate-limiter';
import { isApiKeyToken } from './api-key-token';
import { ApiKeysService } from './api-keys.service';
import { AuthenticatedRequest, bearerToken } from './auth-context';

type Request = AuthenticatedRequest & { headers: Record<string, unknown> };

/**
 * Authenticates the workspace API (`/v1`) before the body parser runs, so a
 * request without a valid API key, or over its rate limits (RATE_LIMIT_RPS
 * per key, RATE_LIMIT_WORKSPACE_RPS per workspace), is answered before its
 * body is read: a token without an API key's shape costs no query, and no
 * unauthenticated body is ever parsed. Puts the AuthContext on the request
 * for ApiKeyGuard. AppModule mounts it on `/v1`.
 */
@Injectable()
export class ApiKeyMiddleware implements NestMiddleware<Request> {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly rateLimiter: RateLimiter,
  ) {}

  use(request: Request, _response: unknown, next: (error?: unknown) => void): void {
    this.authenticate(request).then(() => next(), next);
  }

  private async authenticate(request: Request): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    const auth = token && isApiKeyToken(token) ? await this.apiKeys.authenticate(token) : null;
    if (!auth) throw new UnauthorizedError();
    const limit = await this.rateLimiter.hit(auth);
    if (!limit.allowed) throw new RateLimitedError(limit.retryAfterSeconds);
    request.auth = auth;
  }
}
