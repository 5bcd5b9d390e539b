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

export class SuppressionResponse {
  data: SuppressionDto;
}

export class SuppressionPage {
  data: SuppressionDto[];
  /** Pass as `cursor` to get the next page; null on the last one. */
  next_cursor: string | null;
}
