import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { BadRequestError } from '@app/common';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** 1-256 printable ASCII characters. */
const VALID_KEY = /^[\x20-\x7e]{1,256}$/;

/** Refuses a malformed Idempotency-Key header before the body is looked at. */
@Injectable()
export class IdempotencyKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const value = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers[
      IDEMPOTENCY_HEADER
    ];
    if (value !== undefined && (typeof value !== 'string' || !VALID_KEY.test(value))) {
      throw new BadRequestError(
        'invalid_idempotency_key',
        'Idempotency-Key must be 1 to 256 printable ASCII characters',
      );
    }
    return true;
  }
}
