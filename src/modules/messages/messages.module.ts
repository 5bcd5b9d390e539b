import { Module } from '@nestjs/common';
import { MessagesController } from './messages.controller';
import { MessagesRepository } from './messages.repository';
import { MessagesService } from './messages.service';
import { StrandedMessagesRepository } from './stranded-messages.repository';

/**
 * Messages and their events: storage of accepted requests, the delivery state
 * machine (MessagesRepository), the sweeper's reads (StrandedMessagesRepository)
 * and the read API.
 */
@Module({
  controllers: [MessagesController],
  providers: [MessagesRepository, StrandedMessagesRepository, MessagesService],
  exports: [MessagesRepository, StrandedMessagesRepository],
})
export class MessagesModule {}
