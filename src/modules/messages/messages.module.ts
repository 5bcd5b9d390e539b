import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { SuppressionsModule } from '../suppressions/suppressions.module';
import { AttachmentsRepository } from './attachments.repository';
import { MessageEventFeed } from './message-event-feed';
import { MessageEventsOutbox } from './message-events-outbox';
import { MessageLifecycle } from './message-lifecycle';
import { MessagesController } from './messages.controller';
import { MessagesRepository } from './messages.repository';
import { MessagesService } from './messages.service';
import { StrandedMessagesRepository } from './stranded-messages.repository';

/**
 * Messages and their events: storage of accepted requests (MessagesRepository),
 * their attachments' bytes and how long they stay (AttachmentsRepository),
 * the lifecycle every status change goes through (MessageLifecycle) and the
 * feed that counts the events written (MessageEventFeed), the
 * sweeper's reads (StrandedMessagesRepository), the events read as an outbox
 * by webhooks (MessageEventsOutbox) and the read and retry API.
 * Tables it owns: email_requests, messages, message_events, email_attachments,
 * email_raw_content.
 */
@Module({
  imports: [SuppressionsModule, DeliveryModule],
  controllers: [MessagesController],
  providers: [
    MessagesRepository,
    AttachmentsRepository,
    MessageLifecycle,
    MessageEventFeed,
    StrandedMessagesRepository,
    MessageEventsOutbox,
    MessagesService,
  ],
  exports: [
    MessagesRepository,
    AttachmentsRepository,
    MessageLifecycle,
    MessageEventFeed,
    StrandedMessagesRepository,
    MessageEventsOutbox,
  ],
})
export class MessagesModule {}
