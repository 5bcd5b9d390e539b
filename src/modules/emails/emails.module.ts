import { Module } from '@nestjs/common';
import { AddressesModule } from '../addresses/addresses.module';
import { ContactsModule } from '../contacts/contacts.module';
import { DeliveryModule } from '../delivery/delivery.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { MessagesModule } from '../messages/messages.module';
import { EmailsController } from './emails.controller';
import { EmailsService } from './emails.service';
import { SendingAllowedGuard } from './sending-allowed.guard';

/**
 * The front door: POST /v1/emails and /v1/emails/batch. HTTP body → send-rules.ts →
 * SendCommand → EmailsService.accept → MessagesRepository (storage) and DeliveryProducer
 * (queue). Exports EmailsService for the SMTP relay, the other door. Owns no table: it
 * writes through the messages and idempotency modules.
 */
@Module({
  imports: [AddressesModule, ContactsModule, MessagesModule, DeliveryModule, IdempotencyModule],
  controllers: [EmailsController],
  providers: [EmailsService, SendingAllowedGuard],
  exports: [EmailsService],
})
export class EmailsModule {}
