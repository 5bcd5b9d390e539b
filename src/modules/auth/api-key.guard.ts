import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { RateLimitedError, UnauthorizedError } from '@app/common';
import { RateLimiter } from '../../redis/rate-limiter';
import { ApiKeysService } from './api-keys.service';
import { AuthenticatedRequest, bearerToken } from './auth-context';

/**
 * Authenticates a workspace API key, applies its rate limits (RATE_LIMIT_RPS
 * per key, RATE_LIMIT_WORKSPACE_RPS per workspace) and puts its AuthContext
 * on the request.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly rateLimiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<AuthenticatedRequest & { headers: Record<string, unknown> }>();
    const token = bearerToken(request.headers.authorization);
    const auth = token ? await this.apiKeys.authenticate(token) : null;
    if (!auth) throw new UnauthorizedError();
    const limit = await this.rateLimiter.hit(auth);
    if (!limit.allowed) throw new RateLimitedError(limit.retryAfterSeconds);
    request.auth = auth;
    return true;
  }
}
