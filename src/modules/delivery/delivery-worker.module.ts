import { Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AddressesModule } from '../addresses/addresses.module';
import { MessagesModule } from '../messages/messages.module';
import { SuppressionsModule } from '../suppressions/suppressions.module';
import { AttachmentPruner } from './attachment-pruner';
import { AttemptRecorder } from './attempt-recorder';
import { DeliveryModule } from './delivery.module';
import { DeliveryService } from './delivery.service';
import { DeliveryWorker } from './delivery.worker';
import { ScheduleReleaser } from './schedule-releaser';
import { SimulatedDelivery } from './simulated-delivery';
import { MAIL_TRANSPORT } from './transports/mail-transport';
import { SmtpTransport } from './transports/smtp.transport';

/**
 * The worker side of delivery (APP_ROLE all or worker): the queue consumer,
 * the sweeper, the release of scheduled messages, SMTP, and the pruning of
 * attachment bytes.
 */
@Module({
  imports: [DeliveryModule, MessagesModule, AddressesModule, SuppressionsModule],
  providers: [
    DeliveryService,
    AttemptRecorder,
    SimulatedDelivery,
    DeliveryWorker,
    ScheduleReleaser,
    AttachmentPruner,
    {
      provide: MAIL_TRANSPORT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new SmtpTransport({ url: config.smtpUrl, maxConnections: config.delivery.concurrency }),
    },
  ],
  exports: [DeliveryWorker],
})
export class DeliveryWorkerModule {}
