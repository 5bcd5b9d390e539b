import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { DELIVERY_QUEUE } from './delivery.jobs';
import { DeliveryProducer } from './delivery.producer';

/** The delivery queue and its producer: what the API side needs to queue messages. */
@Module({
  imports: [BullModule.registerQueue({ name: DELIVERY_QUEUE })],
  providers: [DeliveryProducer],
  exports: [DeliveryProducer, BullModule],
})
export class DeliveryModule {}
