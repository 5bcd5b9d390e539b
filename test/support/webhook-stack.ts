import { getQueueToken } from '@nestjs/bull';
import type { Job, Queue } from 'bull';
import { AttemptJobId, WEBHOOK_QUEUE } from '../../src/modules/webhooks/webhook.jobs';
import { startWebhookReceiver, WebhookReceiver } from './webhook-receiver';
import { startWorkerStack, WorkerStack } from './worker-stack';

/** A webhook receiver on 127.0.0.1 and a worker stack whose API takes endpoints there, for tests about webhook workers. */
export interface WebhookStack {
  stack: WorkerStack;
  receiver: WebhookReceiver;
  /** The pending deliveries, each with its next attempt's Bull job (null when none is queued). */
  pendingWithJobs(): Promise<{ id: string; attempts: number; job: Job | null }[]>;
  close(): Promise<void>;
}

export async function startWebhookStack(): Promise<WebhookStack> {
  const receiver = await startWebhookReceiver();
  const stack = await startWorkerStack({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  const queue: Queue = stack.api.app.get(getQueueToken(WEBHOOK_QUEUE));
  return {
    stack,
    receiver,
    async pendingWithJobs() {
      const { rows } = await stack.api.db.query<{ id: string; attempts: number }>(
        `SELECT id, attempts FROM webhook_deliveries WHERE status = 'pending'`,
      );
      const jobs = await Promise.all(
        rows.map(({ id, attempts }) => queue.getJob(AttemptJobId.attempt(id, attempts + 1))),
      );
      return rows.map((row, i) => ({ ...row, job: jobs[i] }));
    },
    async close() {
      await stack.close();
      await receiver.close();
    },
  };
}
