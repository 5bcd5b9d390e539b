import { OmitType } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { IsName, IsNormalizedEmail, IsOmittable, PageQueryDto } from '@app/common';
import type { Contact } from '../entities/contact.entity';

const ADDRESS_ID_MESSAGE = 'delivery_address_id must be the id of a sender address';

export class CreateContactDto {
  /** Trimmed and lower-cased; unique per workspace. @example "ada@example.com" */
  @IsNormalizedEmail()
  email: string;

  /** @example "Ada" */
  @IsOptional()
  @IsName()
  first_name?: string | null;

  /** @example "Lovelace" */
  @IsOptional()
  @IsName()
  last_name?: string | null;

  /**
   * The contact's delivery route: a sender address of this workspace. While
   * that address is sendable, mail to this contact is sent from it instead of
   * the request's `from`.
   * @example "2a4b6c8d-0e1f-4a3b-8c5d-7e9f0a1b2c3d"
   */
  @IsOptional()
  @IsUUID('all', { message: ADDRESS_ID_MESSAGE })
  delivery_address_id?: string | null;
}

/**
 * Fields left out stay as they are; `null` clears a name or the delivery route
 * (`delivery_address_id`).
 */
export class UpdateContactDto extends OmitType(CreateContactDto, ['email'] as const) {
  /** Trimmed and lower-cased; unique per workspace. @example "ada@example.com" */
  @IsOmittable()
  @IsNormalizedEmail()
  email?: string;
}

export class ContactQueryDto extends PageQueryDto {
  /** Only the contact with this email (compared after trimming and lower-casing). @example "ada@example.com" */
  @IsOmittable()
  @IsNormalizedEmail()
  email?: string;
}

export class ContactDto {
  /** @example "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b" */
  id: string;
  /** @example "ada@example.com" */
  email: string;
  /** @example "Ada" */
  first_name: string | null;
  /** @example "Lovelace" */
  last_name: string | null;
  /** The sender address mail to this contact is sent from while it is sendable; null: the request's `from`. */
  delivery_address_id: string | null;
  created_at: Date;
  updated_at: Date;

  static from(contact: Contact): ContactDto {
    return {
      id: contact.id,
      email: contact.email,
      first_name: contact.firstName,
      last_name: contact.lastName,
      delivery_address_id: contact.deliveryAddressId,
      created_at: contact.createdAt,
      updated_at: contact.updatedAt,
    };
  }
}

export class ContactResponse {
  data: ContactDto;
}

export class ContactPage {
  data: ContactDto[];
  /** Pass as `cursor` to get the next page; null on the last one. */
  next_cursor: string | null;
}
