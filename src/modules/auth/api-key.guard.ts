import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { UnauthorizedError } from '@app/common';
import { ApiKeysService } from './api-keys.service';
import { AuthenticatedRequest, bearerToken } from './auth-context';

/** Authenticates a workspace API key and puts its AuthContext on the request. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly apiKeys: ApiKeysService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<AuthenticatedRequest & { headers: Record<string, unknown> }>();
    const token = bearerToken(request.headers.authorization);
    const auth = token ? await this.apiKeys.authenticate(token) : null;
    if (!auth) throw new UnauthorizedError();
    request.auth = auth;
    return true;
  }
}
