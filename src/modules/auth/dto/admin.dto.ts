import { IsBoolean, IsOptional, IsUUID } from 'class-validator';
import { IsFeatureMap, IsName, IsNormalizedEmail, IsOmittable } from '@app/common';
import type { Features, User } from '../entities/user.entity';
import type { Workspace } from '../entities/workspace.entity';

export class CreateUserDto {
  /** The user's email address (normalized: trimmed, lower-cased). @example "owner@developer.test" */
  @IsNormalizedEmail()
  email: string;

  /** Display name. @example "Ada Owner" */
  @IsOptional()
  @IsName()
  name?: string;

  /** Whether the email address is verified; sending requires it. */
  @IsOptional()
  @IsBoolean()
  email_verified?: boolean;

  /** Feature flags. @example {"smtp.enabled": true} */
  @IsOptional()
  @IsFeatureMap()
  features?: Features;
}

export class UpdateUserDto {
  /** Whether the email address is verified. */
  @IsOmittable()
  @IsBoolean()
  email_verified?: boolean;

  /** Feature flags, merged into the current ones. @example {"smtp.enabled": true} */
  @IsOmittable()
  @IsFeatureMap()
  features?: Features;
}

export class UserDto {
  /** @example "0b9c2c1e-4f0a-4a57-9d5e-3c1f2b7a9e10" */
  id: string;
  /** @example "owner@developer.test" */
  email: string;
  email_verified: boolean;
  /** @example {"smtp.enabled": true} */
  features: Features;

  static from(user: User): UserDto {
    return { id: user.id, email: user.email, email_verified: user.emailVerified, features: user.features };
  }
}

export class CreateWorkspaceDto {
  /** @example "Acme production" */
  @IsName()
  name: string;

  /** Id of the user who owns the workspace. */
  @IsUUID('all', { message: 'owner_id must be a user id' })
  owner_id: string;
}

export class WorkspaceDto {
  id: string;
  /** @example "Acme production" */
  name: string;
  owner_id: string;

  static from(workspace: Workspace): WorkspaceDto {
    return { id: workspace.id, name: workspace.name, owner_id: workspace.ownerId };
  }
}

export class UserResponse {
  data: UserDto;
}

export class WorkspaceResponse {
  data: WorkspaceDto;
}
