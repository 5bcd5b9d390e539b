import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import { DELIVERY_QUEUE } from './modules/delivery/delivery.jobs';
import { INBOUND_QUEUE } from './modules/inbound/inbound.jobs';
import { WEBHOOK_QUEUE } from './modules/webhooks/webhook.jobs';

/**
 * Every Bull queue of the app. The queue metrics (`leadpush_queue_jobs`) and
 * the Bull Board at /admin/queues show each one: a module that needs a new
 * queue adds its name here.
 */
export const QUEUES: readonly string[] = [DELIVERY_QUEUE, WEBHOOK_QUEUE, INBOUND_QUEUE];

/**
 * The queues of QUEUES, registered once for the whole app in every role, so
 * producers, consumers, the metrics and the board inject the same Queue
 * objects. Only a module with a processor takes jobs from one.
 */
@Global()
@Module({
  imports: [BullModule.registerQueue(...QUEUES.map((name) => ({ name })))],
  exports: [BullModule],
})
export class QueuesModule {}
