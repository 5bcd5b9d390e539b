import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { RateLimitedError, UnauthorizedError } from '@app/common';
import { RateLimiter } from '../../redis/rate-limiter';
import { ApiKeysService } from './api-keys.service';
import { AuthenticatedRequest, bearerToken } from './auth-context';

/**
 * Authenticates a workspace API key, applies its rate limit (RATE_LIMIT_RPS)
 * and puts its AuthContext on the request.
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
    const limit = await this.rateLimiter.hit(auth.apiKeyId);
    if (!limit.allowed) throw new RateLimitedError(limit.retryAfterSeconds);
    request.auth = auth;
    return true;
  }
}
