import { Module } from '@nestjs/common';
import { EmailsModule } from '../emails/emails.module';
import { SmtpRelayServer } from './smtp-relay.server';

/**
 * The SMTP relay ingress (SPEC §11), in the `all` and `api` roles when
 * SMTP_RELAY_PORT is set: SMTP sessions become SendCommands for
 * EmailsService.accept, so every rule of §7-§9 holds for them. Owns no table.
 */
@Module({
  imports: [EmailsModule],
  providers: [SmtpRelayServer],
  exports: [SmtpRelayServer],
})
export class SmtpRelayModule {}
