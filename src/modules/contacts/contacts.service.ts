import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConflictError, isUuid, listPage, NotFoundError, Page, ValidationFailedError } from '@app/common';
import { AddressesService } from '../addresses/addresses.service';
import type { SenderAddress } from '../addresses/sender-address';
import { ContactDto, ContactQueryDto, CreateContactDto, UpdateContactDto } from './dto/contact.dto';
import { Contact } from './entities/contact.entity';

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

export interface Recipient {
  contactId: string;
  /** The contact's delivery address, only while it is sendable. */
  route: SenderAddress | null;
}

const notAnAddress = () =>
  new ValidationFailedError([
    {
      field: 'delivery_address_id',
      message: 'delivery_address_id is not a sender address of this workspace',
    },
  ]);

/**
 * A workspace's contacts. Emails are unique per workspace by a unique index,
 * so concurrent creates cannot both win. A contact's delivery route is one of
 * the workspace's sender addresses; deleting the address clears it.
 */
@Injectable()
export class ContactsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly addresses: AddressesService,
  ) {}

  async create(workspaceId: string, dto: CreateContactDto): Promise<ContactDto> {
    await this.checkRoute(workspaceId, dto.delivery_address_id);
    const contact = await this.write(dto.email, () =>
      this.db.getRepository(Contact).save({
        workspaceId,
        email: dto.email,
        firstName: dto.first_name ?? null,
        lastName: dto.last_name ?? null,
        deliveryAddressId: dto.delivery_address_id ?? null,
      }),
    );
    return ContactDto.from(contact);
  }

  async list(workspaceId: string, query: ContactQueryDto): Promise<Page<ContactDto>> {
    const builder = this.db
      .getRepository(Contact)
      .createQueryBuilder('c')
      .where('c.workspace_id = :workspaceId', { workspaceId });
    if (query.email !== undefined) builder.andWhere('c.email = :email', { email: query.email });
    return listPage(builder, query, ContactDto.from);
  }

  async get(workspaceId: string, id: string): Promise<ContactDto> {
    return ContactDto.from(await this.find(workspaceId, id));
  }

  async update(workspaceId: string, id: string, dto: UpdateContactDto): Promise<ContactDto> {
    const contact = await this.find(workspaceId, id);
    await this.checkRoute(workspaceId, dto.delivery_address_id);
    const result = await this.write(dto.email ?? contact.email, () =>
      this.db.getRepository(Contact).update(
        { id, workspaceId },
        {
          email: dto.email,
          firstName: dto.first_name,
          lastName: dto.last_name,
          deliveryAddressId: dto.delivery_address_id,
        },
      ),
    );
    if (!result.affected) throw new NotFoundError('Contact');
    return this.get(workspaceId, id);
  }

  async remove(workspaceId: string, id: string): Promise<void> {
    const result = isUuid(id) ? await this.db.getRepository(Contact).delete({ id, workspaceId }) : null;
    if (!result?.affected) throw new NotFoundError('Contact');
  }

  /**
   * The contacts among `emails` (already normalized), keyed by email, each with
   * its delivery route when that address is sendable (its domain verified).
   */
  async findRecipients(workspaceId: string, emails: string[]): Promise<Map<string, Recipient>> {
    const recipients = new Map<string, Recipient>();
    if (emails.length === 0) return recipients;
    const rows = await this.db.query(
      `SELECT c.id, c.email, a.id AS address_id, a.email AS address_email, a.name AS address_name,
              d.id AS domain_id, d.name AS domain_name
         FROM contacts c
         LEFT JOIN addresses a ON a.id = c.delivery_address_id AND a.workspace_id = c.workspace_id
         LEFT JOIN domains d ON d.id = a.domain_id AND d.verified_at IS NOT NULL
        WHERE c.workspace_id = $1 AND c.email = ANY($2)`,
      [workspaceId, emails],
    );
    for (const row of rows) {
      recipients.set(row.email, {
        contactId: row.id,
        route: row.domain_id
          ? {
              id: row.address_id,
              email: row.address_email,
              name: row.address_name,
              domainId: row.domain_id,
              domainName: row.domain_name,
            }
          : null,
      });
    }
    return recipients;
  }

  private async find(workspaceId: string, id: string): Promise<Contact> {
    const contact = isUuid(id) ? await this.db.getRepository(Contact).findOneBy({ id, workspaceId }) : null;
    if (!contact) throw new NotFoundError('Contact');
    return contact;
  }

  private async checkRoute(workspaceId: string, addressId: string | null | undefined): Promise<void> {
    if (addressId && !(await this.addresses.exists(workspaceId, addressId))) throw notAnAddress();
  }

  /** Runs an insert or update, answering 409 for a taken email and 422 for an address deleted meanwhile. */
  private async write<T>(email: string, query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === UNIQUE_VIOLATION)
        throw new ConflictError(`A contact with the email ${email} already exists`);
      if (code === FOREIGN_KEY_VIOLATION) throw notAnAddress();
      throw error;
    }
  }
}
