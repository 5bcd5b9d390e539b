import { IsIn } from 'class-validator';
import { IsName, IsOmittable } from '@app/common';
import { API_KEY_MODES, type ApiKeyMode } from '../api-key-token';
import type { ApiKey } from '../entities/api-key.entity';

export class CreateApiKeyDto {
  /** What the key is for. @example "production server" */
  @IsName()
  name: string;

  /**
   * `live` (default) or `test`: a test key's messages go through every status
   * and event with simulated outcomes and never reach SMTP; its token starts
   * with `lp_test_`. @example "live"
   */
  @IsOmittable()
  @IsIn(API_KEY_MODES, { message: `mode must be one of ${API_KEY_MODES.join(', ')}` })
  mode?: ApiKeyMode;
}

export class ApiKeyDto {
  id: string;
  /** @example "production server" */
  name: string;
  /** @example "live" */
  mode: ApiKeyMode;
  /** The token's first characters, to tell keys apart. @example "lp_4fJ0x" */
  token_prefix: string;
  created_at: Date;

  static from(key: ApiKey): ApiKeyDto {
    return {
      id: key.id,
      name: key.name,
      mode: key.mode,
      token_prefix: key.tokenPrefix,
      created_at: key.createdAt,
    };
  }
}

export class CreatedApiKeyDto {
  id: string;
  name: string;
  /** @example "live" */
  mode: ApiKeyMode;
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
