import { IsNormalizedEmail } from '@app/common';

export class CreateSuppressionDto {
  /** The address to stop sending to. @example "unsubscribed@example.test" */
  @IsNormalizedEmail()
  email: string;
}

export class SuppressionDto {
  /** @example "bounced@example.test" */
  email: string;
  /** Why: `hard_bounce` (the recipient's server refused it for good) or `manual`. @example "hard_bounce" */
  reason: string;
  created_at: Date;
}
