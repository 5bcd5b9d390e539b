import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AddressesModule } from '../addresses/addresses.module';
import { ContactsController } from './contacts.controller';
import { ContactsService } from './contacts.service';
import { Contact } from './entities/contact.entity';

/**
 * Contacts and their delivery routes. The sending path uses ContactsService.findRecipients.
 * Tables it owns: contacts.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Contact]), AddressesModule],
  controllers: [ContactsController],
  providers: [ContactsService],
  exports: [ContactsService],
})
export class ContactsModule {}
