import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { DELIVERY_QUEUE } from './delivery.jobs';

/** Hands accepted messages to SMTP. Filled in by the delivery work. */
@Module({
  imports: [BullModule.registerQueue({ name: DELIVERY_QUEUE })],
  exports: [BullModule],
})
export class DeliveryModule {}
