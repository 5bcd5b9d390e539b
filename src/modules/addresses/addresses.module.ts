import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AddressesController } from './addresses.controller';
import { AddressesService } from './addresses.service';
import { DomainVerifier } from './domain-verifier';
import { DomainsAdminController } from './domains-admin.controller';
import { DomainsController } from './domains.controller';
import { DomainsService } from './domains.service';
import { Address } from './entities/address.entity';
import { Domain } from './entities/domain.entity';

/**
 * Sending domains (DKIM keys, DNS verification) and the sender addresses on
 * them. Other modules use AddressesService.findSendable (findSendableCached
 * on hot paths) / exists and DomainsService.getSigningKey; the caches behind
 * them are kept here, so this module forgets what it changes.
 * Tables it owns: domains, addresses.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Domain, Address])],
  controllers: [DomainsController, DomainsAdminController, AddressesController],
  providers: [DomainsService, AddressesService, DomainVerifier],
  exports: [DomainsService, AddressesService],
})
export class AddressesModule {}
