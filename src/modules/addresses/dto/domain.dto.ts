import { dkimRecord, DnsRecord, ownershipRecord } from '../dkim';
import type { Domain } from '../entities/domain.entity';
import { IsHostname } from '../hostname';

export class CreateDomainDto {
  /**
   * The domain to send from: a hostname of at least two labels, trimmed and
   * lower-cased. Unique per workspace.
   * @example "mail.example.com"
   */
  @IsHostname()
  name: string;
}

/** A DNS record to publish at the domain's DNS provider. */
export class DnsRecordDto implements DnsRecord {
  /** @example "TXT" */
  type: 'TXT';
  /** Fully qualified record name. @example "_leadpush.mail.example.com" */
  name: string;
  /**
   * Record value. The DKIM value is longer than 255 characters: DNS providers
   * split it into several strings of one record, which is fine.
   * @example "leadpush-verification=4f1c0e9a7b2d4c6e8f0a1b2c3d4e5f60"
   */
  value: string;
}

export type DomainStatus = 'pending' | 'verified';

export class DomainDto {
  /** @example "7d0c1f4e-2b8a-4c3d-9e5f-6a7b8c9d0e1f" */
  id: string;
  /** @example "mail.example.com" */
  name: string;
  /**
   * `verified` once both records were found (or an operator verified the
   * domain); it stays verified when a later check fails.
   * @example "pending"
   */
  status: DomainStatus;
  /** The records to publish: the ownership token first, then the DKIM public key. */
  records: DnsRecordDto[];
  /** When the domain became verified; null while pending. */
  verified_at: Date | null;
  created_at: Date;

  static from(domain: Domain): DomainDto {
    return {
      id: domain.id,
      name: domain.name,
      status: domain.verifiedAt ? 'verified' : 'pending',
      records: [
        ownershipRecord(domain.name, domain.verificationToken),
        dkimRecord(domain.name, domain.dkimSelector, domain.dkimPublicKey),
      ],
      verified_at: domain.verifiedAt,
      created_at: domain.createdAt,
    };
  }
}

export type DnsCheckStatus = 'found' | 'not_found' | 'mismatched' | 'error';

/** The outcome of looking one record up. */
export class DnsCheckDto {
  /** The record name looked up. @example "_leadpush.mail.example.com" */
  name: string;
  /** The value it must carry. */
  expected: string;
  /** Whether a TXT record at `name` carries the expected value. */
  found: boolean;
  /**
   * `found`; `not_found` (no TXT record at that name); `mismatched` (TXT
   * records, none with the expected value); `error` (the lookup failed, e.g. a
   * DNS timeout: try again later).
   * @example "found"
   */
  status: DnsCheckStatus;
  /** Why the record was not found. @example "No TXT record at _leadpush.mail.example.com" */
  detail?: string;
}

export class DomainChecksDto {
  /** The ownership record `_leadpush.<domain>`. */
  ownership: DnsCheckDto;
  /** The DKIM record `<selector>._domainkey.<domain>`. */
  dkim: DnsCheckDto;
}

export class DomainVerificationDto extends DomainDto {
  /** What this verification found in DNS. */
  checks: DomainChecksDto;
}

export class DomainResponse {
  data: DomainDto;
}

export class DomainVerificationResponse {
  data: DomainVerificationDto;
}

export class DomainPage {
  data: DomainDto[];
  /** Pass as `cursor` to get the next page; null on the last one. */
  next_cursor: string | null;
}
