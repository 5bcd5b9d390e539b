import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createPrivateKey, KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  ConflictError,
  isUuid,
  listPage,
  NotFoundError,
  openSecret,
  Page,
  PageQueryDto,
  sealSecret,
  SqlState,
  SharedLoads,
} from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AddressesService } from './addresses.service';
import { generateDkimKeyPair, newSelector, newVerificationToken } from './dkim';
import { DomainVerifier } from './domain-verifier';
import { DomainDto, DomainVerificationDto } from './dto/domain.dto';
import { Domain } from './entities/domain.entity';

export interface SigningKey {
  domainName: string;
  selector: string;
  /**
   * Decrypted and parsed once: signing with a PEM string would parse it again
   * for every message, which costs about as much as the RSA signature itself.
   */
  privateKey: KeyObject;
}

/** How long a decrypted signing key is kept, so a burst of messages from one domain reads and decrypts it once. */
const SIGNING_KEY_TTL_MS = 60_000;

/**
 * Sending domains: their DKIM key pair, the DNS records to publish, and
 * verification.
 * - Deleting a domain deletes its sender addresses (ON DELETE CASCADE), so
 *   nothing can be sent from it any more; contacts routed through one of them
 *   lose their route (ON DELETE SET NULL) and are sent from the request's
 *   `from` again.
 * - Once verified, a domain stays verified: a later check that fails (a DNS
 *   blip, a record removed) is reported in `checks` but does not stop sending.
 * - Private keys are sealed with DKIM_ENCRYPTION_KEY (AES-256-GCM) and only
 *   ever leave this service decrypted through getSigningKey, which keeps
 *   them for a minute; deleting or verifying a domain forgets its key at
 *   once on this instance.
 */
@Injectable()
export class DomainsService implements OnModuleInit {
  private readonly logger = new Logger(DomainsService.name);
  /** A key's read is shared by the deliveries that ask for it at once (a worker's first batch, say). */
  private readonly signingKeys = new SharedLoads<string, SigningKey | null>(SIGNING_KEY_TTL_MS, 1000);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verifier: DomainVerifier,
    private readonly addresses: AddressesService,
  ) {}

  onModuleInit(): void {
    if (!this.config.dkimEncryptionKey) {
      this.logger.warn(
        'DKIM_ENCRYPTION_KEY is not set: DKIM private keys and webhook secrets are stored unencrypted in the database',
      );
    }
  }

  /**
   * The duplicate check comes before the costly key generation; the unique
   * index still decides between two concurrent creations of one name.
   */
  async create(workspaceId: string, name: string): Promise<DomainDto> {
    if (await this.db.getRepository(Domain).existsBy({ workspaceId, name })) throw this.duplicate(name);
    const keys = await generateDkimKeyPair();
    try {
      const domain = await this.db.getRepository(Domain).save({
        workspaceId,
        name,
        verificationToken: newVerificationToken(),
        dkimSelector: newSelector(),
        dkimPublicKey: keys.publicKey,
        dkimPrivateKey: sealSecret(keys.privateKey, this.config.dkimEncryptionKey),
        verifiedAt: null,
      });
      return DomainDto.from(domain);
    } catch (error) {
      if ((error as { code?: string }).code === SqlState.UNIQUE_VIOLATION) throw this.duplicate(name);
      // The failed query's parameters hold the private key: rethrow without them, so it is never logged.
      throw new Error(`Could not store the domain: ${(error as Error).message}`);
    }
  }

  async list(workspaceId: string, page: PageQueryDto): Promise<Page<DomainDto>> {
    const query = this.db
      .getRepository(Domain)
      .createQueryBuilder('d')
      .where('d.workspace_id = :workspaceId', { workspaceId });
    return listPage(query, page, DomainDto.from);
  }

  async get(workspaceId: string, id: string): Promise<DomainDto> {
    return DomainDto.from(await this.find(workspaceId, id));
  }

  /** Deletes a domain with its sender addresses (see the class comment). */
  async remove(workspaceId: string, id: string): Promise<void> {
    const result = isUuid(id) ? await this.db.getRepository(Domain).delete({ id, workspaceId }) : null;
    if (!result?.affected) throw new NotFoundError('Domain');
    this.signingKeys.delete(signingKeyId(workspaceId, id));
    this.addresses.forgetDomain(id);
  }

  /** Looks both records up; the domain becomes verified when both carry the expected values. */
  async verify(workspaceId: string, id: string): Promise<DomainVerificationDto> {
    const domain = await this.find(workspaceId, id);
    const [ownership, dkim] = DomainDto.from(domain).records;
    const checks = await this.verifier.check(ownership, dkim);
    if (checks.ownership.found && checks.dkim.found && !domain.verifiedAt) {
      domain.verifiedAt = await this.markVerified(id, workspaceId);
    }
    return { ...DomainDto.from(domain), checks };
  }

  /** Operator override: verified without looking at DNS, whatever the workspace. */
  async verifyAsOperator(id: string): Promise<DomainDto> {
    if (!isUuid(id)) throw new NotFoundError('Domain');
    const domain = await this.db.getRepository(Domain).findOneBy({ id });
    if (!domain) throw new NotFoundError('Domain');
    domain.verifiedAt = await this.markVerified(id, domain.workspaceId);
    return DomainDto.from(domain);
  }

  /** The key to sign mail from a verified domain with; null for unknown, foreign or pending domains. */
  getSigningKey(workspaceId: string, domainId: string): Promise<SigningKey | null> {
    return this.signingKeys.get(signingKeyId(workspaceId, domainId), () =>
      this.readSigningKey(workspaceId, domainId),
    );
  }

  private async readSigningKey(workspaceId: string, domainId: string): Promise<SigningKey | null> {
    if (!isUuid(domainId)) return null;
    const [row] = await this.db.query(
      `SELECT name, dkim_selector, dkim_private_key FROM domains
        WHERE id = $1 AND workspace_id = $2 AND verified_at IS NOT NULL`,
      [domainId, workspaceId],
    );
    if (!row) return null;
    return {
      domainName: row.name,
      selector: row.dkim_selector,
      privateKey: createPrivateKey(openSecret(row.dkim_private_key, this.config.dkimEncryptionKey)),
    };
  }

  private duplicate(name: string): ConflictError {
    return new ConflictError(`The domain ${name} already exists in this workspace`);
  }

  private async find(workspaceId: string, id: string): Promise<Domain> {
    const domain = isUuid(id) ? await this.db.getRepository(Domain).findOneBy({ id, workspaceId }) : null;
    if (!domain) throw new NotFoundError('Domain');
    return domain;
  }

  /** Sets verified_at unless already set (the first verification time is kept); 404 if deleted meanwhile. */
  private async markVerified(id: string, workspaceId: string): Promise<Date> {
    const [rows] = await this.db.query(
      `UPDATE domains SET verified_at = COALESCE(verified_at, now())
        WHERE id = $1 AND workspace_id = $2 RETURNING verified_at`,
      [id, workspaceId],
    );
    if (!rows[0]) throw new NotFoundError('Domain');
    this.signingKeys.delete(signingKeyId(workspaceId, id));
    return rows[0].verified_at;
  }
}

const signingKeyId = (workspaceId: string, domainId: string) => `${workspaceId}:${domainId}`;
