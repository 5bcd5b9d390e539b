import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { isUuid, NotFoundError, PageQueryDto } from '@app/common';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeysService } from './api-keys.service';
import { Auth, AuthContext } from './auth-context';
import { ApiKeyPage, CreateApiKeyDto, CreatedApiKeyResponse } from './dto/api-key.dto';
import { ApiErrors } from '../../openapi/api-errors.decorator';

/** The workspace's own API keys. */
@ApiTags('api-keys')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  /** Lists the workspace's active keys (never their tokens). */
  @Get()
  list(@Auth() auth: AuthContext, @Query() page: PageQueryDto): Promise<ApiKeyPage> {
    return this.apiKeys.list(auth.workspaceId, page);
  }

  /**
   * Creates a key; its token is shown only in this answer. A workspace has at
   * most 100 active (unrevoked) keys: beyond that the answer is 409
   * `conflict`, and revoking a key frees its slot.
   */
  @Post()
  @ApiErrors('conflict')
  async create(@Auth() auth: AuthContext, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    return { data: await this.apiKeys.create(auth.workspaceId, dto.name, dto.mode) };
  }

  /** Revokes a key at once. */
  @Delete(':id')
  @HttpCode(204)
  async revoke(@Auth() auth: AuthContext, @Param('id') id: string): Promise<void> {
    if (!isUuid(id)) throw new NotFoundError('API key');
    await this.apiKeys.revoke(auth.workspaceId, id);
  }
}
