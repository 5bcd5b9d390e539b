import { Module } from '@nestjs/common';
import { MessagesController } from './messages.controller';
import { MessagesRepository } from './messages.repository';
import { MessagesService } from './messages.service';

/**
 * Messages and their events: storage of accepted requests, the delivery state
 * machine (MessagesRepository) and the read API.
 * Tables it owns: email_requests, messages, message_events, email_attachments.
 */
@Module({
  controllers: [MessagesController],
  providers: [MessagesRepository, MessagesService],
  exports: [MessagesRepository],
})
export class MessagesModule {}
