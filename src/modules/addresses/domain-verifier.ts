import { Inject, Injectable } from '@nestjs/common';
import { Resolver } from 'node:dns/promises';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { dkimRecordMatches, DnsRecord } from './dkim';
import { DnsCheckDto, DomainChecksDto } from './dto/domain.dto';

const DNS_TIMEOUT_MS = 2000;
/** Answers meaning "no such record"; any other failure is reported as an `error` to retry. */
const NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA']);

/** Looks a domain's records up through DNS_SERVERS (system resolvers when unset). */
@Injectable()
export class DomainVerifier {
  private readonly resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: 1 });

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (config.dnsServers.length > 0) this.resolver.setServers(config.dnsServers);
  }

  /** Checks both records at once; never throws for a DNS failure. */
  async check(ownership: DnsRecord, dkim: DnsRecord): Promise<DomainChecksDto> {
    const [ownershipCheck, dkimCheck] = await Promise.all([
      this.checkRecord(ownership, (published) => published.trim() === ownership.value),
      this.checkRecord(dkim, (published) => dkimRecordMatches(published, dkim.value)),
    ]);
    return { ownership: ownershipCheck, dkim: dkimCheck };
  }

  private async checkRecord(
    record: DnsRecord,
    matches: (published: string) => boolean,
  ): Promise<DnsCheckDto> {
    const base = { name: record.name, expected: record.value, found: false };
    const notFound: DnsCheckDto = { ...base, status: 'not_found', detail: `No TXT record at ${record.name}` };
    let published: string[];
    try {
      // A TXT record arrives as character-strings of at most 255 bytes: one value is their concatenation.
      published = (await this.resolver.resolveTxt(record.name)).map((chunks) => chunks.join(''));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && NOT_FOUND_CODES.has(code)) return notFound;
      const reason = typeof code === 'string' ? code : 'unknown error';
      return {
        ...base,
        status: 'error',
        detail: `DNS lookup of ${record.name} failed (${reason}); try again later`,
      };
    }
    if (published.some(matches)) return { ...base, found: true, status: 'found' };
    if (published.length === 0) return notFound;
    return {
      ...base,
      status: 'mismatched',
      detail: `${published.length} TXT record(s) at ${record.name}, none with the expected value`,
    };
  }
}
