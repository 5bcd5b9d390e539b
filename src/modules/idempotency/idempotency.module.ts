import { Module } from '@nestjs/common';
import { IdempotencyKeyGuard } from './idempotency-key.guard';
import { IdempotencyService } from './idempotency.service';

@Module({
  providers: [IdempotencyService, IdempotencyKeyGuard],
  exports: [IdempotencyService, IdempotencyKeyGuard],
})
export class IdempotencyModule {}
