import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  GroupCommit,
  ConflictError,
  decodeCursor,
  isUuid,
  normalizeEmail,
  NotFoundError,
  Page,
  PageQueryDto,
  SqlState,
  toPage,
  TtlCache,
  ValidationFailedError,
} from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { Sql } from '../../database/sql';
import { AddressDto, CreateAddressDto } from './dto/address.dto';
import { Address } from './entities/address.entity';
import type { SenderAddress } from './sender-address';

type AddressRow = Pick<Address, 'id' | 'email' | 'name' | 'domainId' | 'createdAt'> & { sendable: boolean };

/** Most lookups one statement answers, and most such statements at a time. */
const LOOKUP_BATCH = { maxBatch: 200, maxConcurrent: 2 };

/** An address with `sendable` read from its domain: never stored, so verifying a domain needs no update here. */
const SELECT_ADDRESS = `
  SELECT a.id, a.email, a.name, a.domain_id AS "domainId", a.created_at AS "createdAt",
         d.verified_at IS NOT NULL AS sendable
    FROM addresses a JOIN domains d ON d.id = a.domain_id`;

function toDto(row: AddressRow): AddressDto {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    domain_id: row.domainId,
    sendable: row.sendable,
    created_at: row.createdAt,
  };
}

interface SendableRow {
  id: string;
  email: string;
  name: string | null;
  domain_id: string;
  domain_name: string;
}

const toSender = (row: SendableRow): SenderAddress => ({
  id: row.id,
  email: row.email,
  name: row.name,
  domainId: row.domain_id,
  domainName: row.domain_name,
});

/**
 * Sender addresses on the workspace's domains; deleted with their domain.
 * Sendable senders are kept for AUTH_CACHE_TTL_MS for the sending hot path
 * (findSendableCached), and forgotten at once on this instance when their
 * address or domain is deleted.
 */
@Injectable()
export class AddressesService {
  private readonly sendable: TtlCache<string, SenderAddress>;
  private readonly lookups: GroupCommit<{ workspaceId: string; email: string }, SenderAddress | null>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sql: Sql,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.sendable = new TtlCache(config.authCacheTtlMs);
    // A failed lookup is never one item's fault: the whole batch fails, as one statement would.
    this.lookups = new GroupCommit((items) => this.lookUp(items), { ...LOOKUP_BATCH, isolate: () => false });
  }

  async create(workspaceId: string, dto: CreateAddressDto): Promise<AddressDto> {
    const domainName = dto.email.slice(dto.email.lastIndexOf('@') + 1);
    const notOurDomain = new ValidationFailedError([
      { field: 'email', message: `${domainName} is not a domain of this workspace; add the domain first` },
    ]);
    const [domain] = await this.db.query(
      `SELECT id, verified_at FROM domains WHERE workspace_id = $1 AND name = $2`,
      [workspaceId, domainName],
    );
    if (!domain) throw notOurDomain;
    try {
      const address = await this.db.getRepository(Address).save({
        workspaceId,
        domainId: domain.id,
        email: dto.email,
        name: dto.name ?? null,
      });
      return toDto({ ...address, sendable: domain.verified_at !== null });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === SqlState.UNIQUE_VIOLATION)
        throw new ConflictError(`The address ${dto.email} already exists`);
      if (code === SqlState.FOREIGN_KEY_VIOLATION) throw notOurDomain; // the domain was deleted meanwhile
      throw error;
    }
  }

  async list(workspaceId: string, page: PageQueryDto): Promise<Page<AddressDto>> {
    const cursor = decodeCursor(page.cursor);
    const rows: AddressRow[] = await this.db.query(
      `${SELECT_ADDRESS}
        WHERE a.workspace_id = $1 AND ($2::timestamptz IS NULL OR (a.created_at, a.id) < ($2, $3::uuid))
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT $4`,
      [workspaceId, cursor?.createdAt ?? null, cursor?.id ?? null, page.limit + 1],
    );
    return toPage(rows, page.limit, toDto);
  }

  async get(workspaceId: string, id: string): Promise<AddressDto> {
    const [row]: AddressRow[] = isUuid(id)
      ? await this.db.query(`${SELECT_ADDRESS} WHERE a.id = $1 AND a.workspace_id = $2`, [id, workspaceId])
      : [];
    if (!row) throw new NotFoundError('Address');
    return toDto(row);
  }

  /** Deletes an address; contacts routed through it lose their route (ON DELETE SET NULL). */
  async remove(workspaceId: string, id: string): Promise<void> {
    const result = isUuid(id) ? await this.db.getRepository(Address).delete({ id, workspaceId }) : null;
    if (!result?.affected) throw new NotFoundError('Address');
    this.sendable.deleteWhere((sender) => sender.id === id);
  }

  /** Forgets the cached senders of a domain that was deleted (see DomainsService.remove). */
  forgetDomain(domainId: string): void {
    this.sendable.deleteWhere((sender) => sender.domainId === domainId);
  }

  /** Whether `id` is an address of the workspace, sendable or not. */
  async exists(workspaceId: string, id: string): Promise<boolean> {
    return isUuid(id) && this.db.getRepository(Address).existsBy({ id, workspaceId });
  }

  /** findSendable, from the cache when this instance found the same sender within AUTH_CACHE_TTL_MS. */
  async findSendableCached(workspaceId: string, email: string): Promise<SenderAddress | null> {
    const key = `${workspaceId} ${normalizeEmail(email)}`;
    const cached = this.sendable.get(key);
    if (cached) return cached;
    const sender = await this.findSendable(workspaceId, email);
    if (sender) this.sendable.set(key, sender);
    return sender;
  }

  /**
   * The sendable ones among these addresses (by id, each in its workspace),
   * keyed by id: one query for any number of them.
   */
  async findSendableByIds(refs: { workspaceId: string; id: string }[]): Promise<Map<string, SenderAddress>> {
    if (refs.length === 0) return new Map();
    const rows = await this.sql.rows<SendableRow>(
      `SELECT a.id, a.email, a.name, a.domain_id, d.name AS domain_name
         FROM unnest($1::uuid[], $2::uuid[]) AS r(workspace_id, id)
         JOIN addresses a ON a.id = r.id AND a.workspace_id = r.workspace_id
         JOIN domains d ON d.id = a.domain_id AND d.verified_at IS NOT NULL`,
      [refs.map((r) => r.workspaceId), refs.map((r) => r.id)],
    );
    return new Map(rows.map((row) => [row.id, toSender(row)]));
  }

  /**
   * The workspace's address `email` (compared lower-cased) when its domain is
   * verified; null otherwise. Concurrent calls (one per message a worker
   * delivers) are answered by one statement.
   */
  findSendable(workspaceId: string, email: string): Promise<SenderAddress | null> {
    return this.lookups.submit({ workspaceId, email: normalizeEmail(email) });
  }

  private async lookUp(items: { workspaceId: string; email: string }[]): Promise<(SenderAddress | null)[]> {
    const rows = await this.sql.rows<SendableRow & { i: string }>(
      `SELECT r.i, a.id, a.email, a.name, a.domain_id, d.name AS domain_name
         FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS r(workspace_id, email, i)
         JOIN addresses a ON a.workspace_id = r.workspace_id AND a.email = r.email
         JOIN domains d ON d.id = a.domain_id AND d.verified_at IS NOT NULL`,
      [items.map((item) => item.workspaceId), items.map((item) => item.email)],
      'find-sendable',
    );
    const found = new Map(rows.map((row) => [Number(row.i) - 1, toSender(row)]));
    return items.map((_, i) => found.get(i) ?? null);
  }
}
