import { AppError, FieldError, ForbiddenError, UnprocessableError } from '@app/common';
import type { AuthContext } from '../auth/auth-context';

/**
 * Who may send, from what (SPEC §7 steps 2, 3 and 5). Step 1 (the bearer
 * token) is the auth module's; step 4 (the body) is send-rules.ts.
 */

export const SMTP_FEATURE = 'smtp.enabled';

/**
 * Steps 2 and 3: the workspace owner has SMTP access, and a verified email.
 * Answers why not, or null when the workspace may send.
 */
export function sendingRefusal(
  owner: Pick<AuthContext['owner'], 'emailVerified' | 'features'>,
): AppError | null {
  if (owner.features[SMTP_FEATURE] !== true) {
    return new ForbiddenError('upgrade_needed', 'Sending email needs a plan with SMTP access', {
      feature: SMTP_FEATURE,
    });
  }
  if (!owner.emailVerified) {
    return new ForbiddenError(
      'email_verification_required',
      "The workspace owner's email address must be verified before sending",
    );
  }
  return null;
}

/**
 * Step 5: `from` (normalized, so compared case-insensitively) must be a
 * sendable address of the workspace: an address on one of its verified
 * domains. The lookup is the addresses module's; this is what a refusal says.
 */
export function senderNotVerified(from: string): AppError {
  return new UnprocessableError(
    'sender_not_verified',
    `${from} is not a sendable address of this workspace: create it on a verified domain`,
  );
}

/** Step 5 for a batch (SPEC §10): one refusal naming each item whose `from` is not sendable. */
export function sendersNotVerified(failing: { field: string; from: string }[]): AppError {
  const errors: FieldError[] = failing.map(({ field, from }) => ({
    field,
    message: `${from} is not a sendable address of this workspace`,
  }));
  return new AppError(
    422,
    'sender_not_verified',
    'Some senders are not sendable addresses of this workspace: create them on a verified domain',
    { errors },
  );
}
