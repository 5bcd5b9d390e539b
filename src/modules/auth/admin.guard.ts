import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { NotFoundError, secretCheck, UnauthorizedError } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { bearerToken } from './auth-context';

/**
 * Guards the operator API with ADMIN_TOKEN. With no ADMIN_TOKEN configured the
 * operator API does not exist: every route answers 404.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly matches: ((token: string | null) => boolean) | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.matches = config.adminToken ? secretCheck(config.adminToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.matches) throw new NotFoundError('Route');
    if (!this.matches(bearerToken(context.switchToHttp().getRequest().headers.authorization))) {
      throw new UnauthorizedError();
    }
    return true;
  }
}
