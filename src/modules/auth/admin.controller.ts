import { Body, Controller, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { NotFoundError } from '@app/common';
import { AdminGuard } from './admin.guard';
import { ApiKeysService } from './api-keys.service';
import {
  CreateUserDto,
  CreateWorkspaceDto,
  UpdateUserDto,
  UserResponse,
  WorkspaceResponse,
} from './dto/admin.dto';
import { CreateApiKeyDto, CreatedApiKeyResponse } from './dto/api-key.dto';
import { UsersService } from './users.service';
import { ApiErrors } from '../../openapi/api-errors.decorator';

/** Operator API: bootstraps users, workspaces and their first API keys. Bearer ADMIN_TOKEN. */
@ApiTags('operator')
@ApiBearerAuth('admin')
@UseGuards(AdminGuard)
@Controller('admin/v1')
export class AdminController {
  constructor(
    private readonly users: UsersService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  /** Creates a user who can own workspaces. */
  @Post('users')
  @ApiErrors('conflict')
  async createUser(@Body() dto: CreateUserDto): Promise<UserResponse> {
    return { data: await this.users.createUser(dto) };
  }

  /** Marks a user's email verified and/or changes their feature flags. */
  @Patch('users/:id')
  async updateUser(@Param('id') id: string, @Body() dto: UpdateUserDto): Promise<UserResponse> {
    return { data: await this.users.updateUser(id, dto) };
  }

  /** Creates a workspace owned by a user. */
  @Post('workspaces')
  async createWorkspace(@Body() dto: CreateWorkspaceDto): Promise<WorkspaceResponse> {
    return { data: await this.users.createWorkspace(dto) };
  }

  /**
   * Creates an API key for a workspace; the token is shown only in this
   * answer. 409 `conflict` when the workspace already has 100 active keys.
   */
  @Post('workspaces/:id/api-keys')
  @ApiErrors('conflict')
  @HttpCode(201)
  async createApiKey(@Param('id') id: string, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    if (!(await this.users.workspaceExists(id))) throw new NotFoundError('Workspace');
    return { data: await this.apiKeys.create(id, dto.name, dto.mode) };
  }
}
