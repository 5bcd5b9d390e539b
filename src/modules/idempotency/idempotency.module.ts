import { Module } from '@nestjs/common';
import { IdempotencyKeyGuard } from './idempotency-key.guard';
import { IdempotencyService } from './idempotency.service';

/** Idempotency-Key handling (IdempotencyService). Tables it owns: idempotency_keys. */
@Module({
  providers: [IdempotencyService, IdempotencyKeyGuard],
  exports: [IdempotencyService, IdempotencyKeyGuard],
})
export class IdempotencyModule {}
