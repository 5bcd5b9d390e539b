import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { PageQueryDto } from '@app/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Auth, AuthContext } from '../auth/auth-context';
import {
  CreatedWebhookResponse,
  CreateWebhookDto,
  UpdateWebhookDto,
  WebhookAttemptPage,
  WebhookPage,
  WebhookResponse,
} from './dto/webhook.dto';
import { WebhookAttemptsRepository } from './webhook-attempts.repository';
import { WebhookEndpointsService } from './webhook-endpoints.service';

const NOT_FOUND = '`not_found`: no such webhook in this workspace';
const INVALID =
  '`validation_failed`: `url` is not an http(s) URL, is over 2048 characters, or its host is or resolves to a refused address; `events` names an unknown type; or an unknown field';

/** Endpoints the workspace's message events are posted to, signed (SPEC §12). */
@ApiTags('webhooks')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly endpoints: WebhookEndpointsService,
    private readonly attempts: WebhookAttemptsRepository,
  ) {}

  /** Subscribes a URL to message events. The answer holds the signing secret, shown only this once. */
  @Post()
  @ApiUnprocessableEntityResponse({ description: INVALID })
  async create(@Auth() auth: AuthContext, @Body() dto: CreateWebhookDto): Promise<CreatedWebhookResponse> {
    return { data: await this.endpoints.create(auth.workspaceId, dto) };
  }

  /** Lists the workspace's endpoints, newest first. */
  @Get()
  @ApiUnprocessableEntityResponse({ description: '`validation_failed`: bad `limit` or `cursor`' })
  list(@Auth() auth: AuthContext, @Query() query: PageQueryDto): Promise<WebhookPage> {
    return this.endpoints.list(auth.workspaceId, query);
  }

  /** One endpoint (never its secret). */
  @Get(':id')
  @ApiNotFoundResponse({ description: NOT_FOUND })
  async get(@Auth() auth: AuthContext, @Param('id') id: string): Promise<WebhookResponse> {
    return { data: await this.endpoints.get(auth.workspaceId, id) };
  }

  /** Changes an endpoint's URL, event types or `enabled`. */
  @Patch(':id')
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiUnprocessableEntityResponse({ description: INVALID })
  async update(
    @Auth() auth: AuthContext,
    @Param('id') id: string,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookResponse> {
    return { data: await this.endpoints.update(auth.workspaceId, id, dto) };
  }

  /** Deletes an endpoint and its deliveries. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNotFoundResponse({ description: NOT_FOUND })
  remove(@Auth() auth: AuthContext, @Param('id') id: string): Promise<void> {
    return this.endpoints.remove(auth.workspaceId, id);
  }

  /** Every attempt to post to the endpoint, newest first. */
  @Get(':id/deliveries')
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiUnprocessableEntityResponse({ description: '`validation_failed`: bad `limit` or `cursor`' })
  deliveries(
    @Auth() auth: AuthContext,
    @Param('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<WebhookAttemptPage> {
    return this.attempts.list(auth.workspaceId, id, query);
  }
}
