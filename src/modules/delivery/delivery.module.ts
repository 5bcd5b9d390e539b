import { Module } from '@nestjs/common';
import { DeliveryProducer } from './delivery.producer';

/** The delivery queue's producer (the queue is in QueuesModule): what the API side needs to queue messages. */
@Module({
  providers: [DeliveryProducer],
  exports: [DeliveryProducer],
})
export class DeliveryModule {}
