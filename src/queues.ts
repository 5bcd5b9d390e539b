import { DELIVERY_QUEUE } from './modules/delivery/delivery.jobs';

/**
 * Every Bull queue of the app. The queue metrics (`leadpush_queue_jobs`) and
 * the Bull Board at /admin/queues show each one: a module that registers a
 * new queue adds its name here.
 */
export const QUEUES: readonly string[] = [DELIVERY_QUEUE];
