import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  ConflictError,
  isUuid,
  listPage,
  NotFoundError,
  Page,
  SqlState,
  ValidationFailedError,
} from '@app/common';
import { Sql } from '../../database/sql';
import { AddressesService } from '../addresses/addresses.service';
import type { SenderAddress } from '../addresses/sender-address';
import { ContactDto, ContactQueryDto, CreateContactDto, UpdateContactDto } from './dto/contact.dto';
import { Contact } from './entities/contact.entity';

export interface RecipientLookup {
  workspaceId: string;
  /** Normalized (trimmed, lower-cased). */
  email: string;
}

interface RecipientRow {
  ord: string;
  id: string;
  workspace_id: string;
  delivery_address_id: string | null;
}

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
    private readonly sql: Sql,
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
   * Which of these (workspace, normalized email) pairs are contacts, with their
   * delivery route when it is sendable; one answer per lookup, in order (null:
   * not a contact). One query for any number of lookups, so the sending path
   * resolves a whole batch of requests at once.
   */
  async findRecipients(lookups: RecipientLookup[]): Promise<(Recipient | null)[]> {
    const found: (Recipient | null)[] = lookups.map(() => null);
    if (lookups.length === 0) return found;
    const rows = await this.sql.rows<RecipientRow>(
      `SELECT l.ord, c.id, c.workspace_id, c.delivery_address_id
         FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS l(workspace_id, email, ord)
         JOIN contacts c ON c.workspace_id = l.workspace_id AND c.email = l.email`,
      [lookups.map((l) => l.workspaceId), lookups.map((l) => l.email)],
    );
    const routes = await this.addresses.findSendableByIds(
      rows.flatMap((row) =>
        row.delivery_address_id ? [{ workspaceId: row.workspace_id, id: row.delivery_address_id }] : [],
      ),
    );
    for (const row of rows) {
      const route = row.delivery_address_id ? routes.get(row.delivery_address_id) : undefined;
      found[Number(row.ord) - 1] = { contactId: row.id, route: route ?? null };
    }
    return found;
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
      if (code === SqlState.UNIQUE_VIOLATION)
        throw new ConflictError(`A contact with the email ${email} already exists`);
      if (code === SqlState.FOREIGN_KEY_VIOLATION) throw notAnAddress();
      throw error;
    }
  }
}
