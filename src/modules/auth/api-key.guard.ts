import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { UnauthorizedError } from '@app/common';
import { AuthenticatedRequest } from './auth-context';

/**
 * Marks a route as workspace API: it runs only with the AuthContext that
 * ApiKeyMiddleware put on the request (it authenticated the API key and
 * applied its rate limits before the body was read). Closed by default: a
 * route outside the middleware's `/v1` is always 401.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!context.switchToHttp().getRequest<AuthenticatedRequest>().auth) throw new UnauthorizedError();
    return true;
  }
}
