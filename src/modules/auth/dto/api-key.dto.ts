import { IsName } from '@app/common';
import type { ApiKey } from '../entities/api-key.entity';

export class CreateApiKeyDto {
  /** What the key is for. @example "production server" */
  @IsName()
  name: string;
}

export class ApiKeyDto {
  id: string;
  /** @example "production server" */
  name: string;
  /** The token's first characters, to tell keys apart. @example "lp_4fJ0x" */
  token_prefix: string;
  created_at: Date;

  static from(key: ApiKey): ApiKeyDto {
    return { id: key.id, name: key.name, token_prefix: key.tokenPrefix, created_at: key.createdAt };
  }
}

export class CreatedApiKeyDto {
  id: string;
  name: string;
  /** The bearer token. Shown only in this answer; store it now. @example "lp_4fJ0xQm3…" */
  token: string;
}

export class CreatedApiKeyResponse {
  data: CreatedApiKeyDto;
}

export class ApiKeyPage {
  data: ApiKeyDto[];
  /** Pass as `cursor` to get the next page; null on the last one. */
  next_cursor: string | null;
}
