import { IsOptional, Matches } from 'class-validator';
import { IsName, IsNormalizedEmail } from '@app/common';

export class CreateAddressDto {
  /**
   * The sender address, trimmed and lower-cased. Its domain part must be a
   * domain of this workspace (exactly: a domain `example.com` does not cover
   * `news.example.com`). Unique per workspace.
   * @example "billing@mail.example.com"
   */
  @IsNormalizedEmail()
  email: string;

  /** Display name in the From header. @example "Acme Billing" */
  @IsOptional()
  @IsName()
  @Matches(/^[^\r\n]*$/, { message: 'name must be a single line' })
  name?: string;
}

export class AddressDto {
  /** @example "2a4b6c8d-0e1f-4a3b-8c5d-7e9f0a1b2c3d" */
  id: string;
  /** @example "billing@mail.example.com" */
  email: string;
  /** @example "Acme Billing" */
  name: string | null;
  /** The domain the address is on. */
  domain_id: string;
  /** Whether mail can be sent from this address: true exactly when its domain is verified. */
  sendable: boolean;
  created_at: Date;
}

export class AddressResponse {
  data: AddressDto;
}

export class AddressPage {
  data: AddressDto[];
  /** Pass as `cursor` to get the next page; null on the last one. */
  next_cursor: string | null;
}
