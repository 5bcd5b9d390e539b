import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { InboundQueue } from './inbound.queue';
import { InboundReportsRepository } from './inbound-reports.repository';
import { InboundSmtpServer } from './inbound-smtp.server';
import { InboundWorker } from './inbound.worker';
import { ReportProcessor } from './report-processor';

/**
 * Bounces and complaints that arrive after the relay's 250 (SPEC §13), in
 * the `all` and `worker` roles: the inbound listener on INBOUND_SMTP_PORT,
 * the queue it feeds, and the processing that turns reports into message
 * transitions (through MessageLifecycle). Table it owns: inbound_reports.
 */
@Module({
  imports: [MessagesModule],
  providers: [InboundReportsRepository, InboundQueue, ReportProcessor, InboundSmtpServer, InboundWorker],
  exports: [InboundSmtpServer],
})
export class InboundModule {}
