import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConflictError, isUuid, NotFoundError, SqlState, ValidationFailedError } from '@app/common';
import { ApiKeysService } from './api-keys.service';
import { CreateUserDto, CreateWorkspaceDto, UpdateUserDto, UserDto, WorkspaceDto } from './dto/admin.dto';
import { User } from './entities/user.entity';
import { Workspace } from './entities/workspace.entity';

/** Users and workspaces, managed by the operator API. */
@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async createUser(dto: CreateUserDto): Promise<UserDto> {
    try {
      const user = await this.db.getRepository(User).save({
        email: dto.email,
        name: dto.name ?? null,
        emailVerified: dto.email_verified ?? false,
        features: dto.features ?? {},
      });
      return UserDto.from(user);
    } catch (error) {
      if ((error as { code?: string }).code === SqlState.UNIQUE_VIOLATION) {
        throw new ConflictError('A user with this email already exists');
      }
      throw error;
    }
  }

  async updateUser(id: string, dto: UpdateUserDto): Promise<UserDto> {
    if (!isUuid(id)) throw new NotFoundError('User');
    const users = this.db.getRepository(User);
    const user = await users.findOneBy({ id });
    if (!user) throw new NotFoundError('User');
    if (dto.email_verified !== undefined) user.emailVerified = dto.email_verified;
    if (dto.features !== undefined) user.features = { ...user.features, ...dto.features };
    await users.save(user);
    this.apiKeys.forgetOwner(id);
    return UserDto.from(user);
  }

  async createWorkspace(dto: CreateWorkspaceDto): Promise<WorkspaceDto> {
    const owner = await this.db.getRepository(User).existsBy({ id: dto.owner_id });
    if (!owner) {
      throw new ValidationFailedError([{ field: 'owner_id', message: 'owner_id is not an existing user' }]);
    }
    const workspace = await this.db.getRepository(Workspace).save({ name: dto.name, ownerId: dto.owner_id });
    return WorkspaceDto.from(workspace);
  }

  async workspaceExists(id: string): Promise<boolean> {
    return isUuid(id) && this.db.getRepository(Workspace).existsBy({ id });
  }
}
