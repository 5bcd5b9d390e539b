import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { AttemptRunner } from './attempt-runner';
import { WebhookClient } from './webhook-client';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookSender } from './webhook-sender';
import { WebhookProducer } from './webhook.producer';
import { WebhookWorker } from './webhook.worker';
import { WebhooksModule } from './webhooks.module';

/**
 * The worker side of webhooks (APP_ROLE all or worker): dispatch, first
 * attempts in the dispatching worker, the other attempts on their own
 * queue, sweeping.
 */
@Module({
  imports: [WebhooksModule, MessagesModule],
  providers: [WebhookProducer, WebhookDispatcher, WebhookClient, WebhookSender, AttemptRunner, WebhookWorker],
})
export class WebhookWorkerModule {}
