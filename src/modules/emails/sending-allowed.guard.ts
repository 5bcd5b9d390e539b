import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthenticatedRequest } from '../auth/auth-context';
import { sendingRefusal } from './send-policy';

/** Steps 2 and 3 of SPEC §7 (send-policy.ts), after the API key guard and before the body is looked at. */
@Injectable()
export class SendingAllowedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { auth } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!auth) return false;
    const refusal = sendingRefusal(auth.owner);
    if (refusal) throw refusal;
    return true;
  }
}
