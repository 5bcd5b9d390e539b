import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ForbiddenError } from '@app/common';
import type { AuthenticatedRequest } from '../auth/auth-context';

const SMTP_FEATURE = 'smtp.enabled';

/**
 * Steps 2 and 3 of SPEC §7, after the API key guard and before body
 * validation: the workspace owner must have SMTP access and a verified email.
 */
@Injectable()
export class SendingAllowedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { auth } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!auth) return false;
    if (auth.owner.features[SMTP_FEATURE] !== true) {
      throw new ForbiddenError('upgrade_needed', 'Sending email needs a plan with SMTP access', {
        feature: SMTP_FEATURE,
      });
    }
    if (!auth.owner.emailVerified) {
      throw new ForbiddenError(
        'email_verification_required',
        "The workspace owner's email address must be verified before sending",
      );
    }
    return true;
  }
}
