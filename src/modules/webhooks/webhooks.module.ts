import { Module } from '@nestjs/common';
import { WebhookAttemptsRepository } from './webhook-attempts.repository';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhooksController } from './webhooks.controller';

/**
 * Webhook endpoints and their delivery log (SPEC §12): the API side.
 * Tables it owns: webhook_endpoints, webhook_deliveries, webhook_attempts,
 * webhook_dispatch_cursor. It reads message events only through
 * MessageEventsOutbox (messages module).
 */
@Module({
  controllers: [WebhooksController],
  providers: [WebhookEndpointsService, WebhookDeliveriesRepository, WebhookAttemptsRepository],
  exports: [WebhookEndpointsService, WebhookDeliveriesRepository],
})
export class WebhooksModule {}
