import { Injectable } from '@nestjs/common';
import { TtlCache } from '@app/common';
import { DomainsService } from '../addresses/domains.service';

const TTL_MS = 60_000;

type SigningKey = NonNullable<Awaited<ReturnType<DomainsService['getSigningKey']>>>;

/**
 * DKIM keys of sender domains, decrypted once and kept for a minute, so a
 * burst of messages from one domain reads and decrypts its key once.
 */
@Injectable()
export class SigningKeys {
  private readonly cache = new TtlCache<string, { key: SigningKey | null }>(TTL_MS, 1000);

  constructor(private readonly domains: DomainsService) {}

  async get(workspaceId: string, domainId: string): Promise<SigningKey | null> {
    const cacheKey = `${workspaceId}:${domainId}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached.key;
    const key = await this.domains.getSigningKey(workspaceId, domainId);
    this.cache.set(cacheKey, { key });
    return key;
  }
}
