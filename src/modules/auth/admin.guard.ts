import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { NotFoundError, UnauthorizedError } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { bearerToken } from './auth-context';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Guards the operator API with ADMIN_TOKEN. With no ADMIN_TOKEN configured the
 * operator API does not exist: every route answers 404.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminToken ? digest(config.adminToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) throw new NotFoundError('Route');
    const token = bearerToken(context.switchToHttp().getRequest().headers.authorization);
    if (!token || !timingSafeEqual(digest(token), this.expected)) throw new UnauthorizedError();
    return true;
  }
}
