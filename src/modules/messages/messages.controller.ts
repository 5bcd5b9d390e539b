import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors } from '../../openapi/api-errors.decorator';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Auth, AuthContext } from '../auth/auth-context';
import { ListMessagesQueryDto, MessagePage, MessageResponse, RescheduleMessageDto } from './dto/message.dto';
import { MessagesService } from './messages.service';

/** What happened to every message: its status and its events. */
@ApiTags('messages')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  /** Lists messages, newest first, filtered by status, recipient and tag. */
  @Get()
  list(@Auth() auth: AuthContext, @Query() query: ListMessagesQueryDto): Promise<MessagePage> {
    return this.messages.list(auth.workspaceId, query);
  }

  /** One message with every event it went through. */
  @Get(':uuid')
  async get(@Auth() auth: AuthContext, @Param('uuid') uuid: string): Promise<MessageResponse> {
    return { data: await this.messages.get(auth.workspaceId, uuid) };
  }

  /**
   * Moves a `scheduled` message to a new time. A time in the past or now
   * releases it at once (`pending`), as a send with such a time does.
   */
  @Patch(':uuid')
  @ApiBody({ type: RescheduleMessageDto })
  @ApiErrors('not_scheduled')
  async reschedule(
    @Auth() auth: AuthContext,
    @Param('uuid') uuid: string,
    @Body() body: unknown,
    @Req() req: Request,
  ): Promise<MessageResponse> {
    return { data: await this.messages.reschedule(auth.workspaceId, uuid, body, requestIdOf(req)) };
  }

  /** Cancels a `scheduled` message: `canceled`, final; nothing of it is ever delivered. */
  @Post(':uuid/cancel')
  @HttpCode(200)
  @ApiErrors('not_scheduled')
  async cancel(@Auth() auth: AuthContext, @Param('uuid') uuid: string): Promise<MessageResponse> {
    return { data: await this.messages.cancel(auth.workspaceId, uuid) };
  }

  /**
   * Releases a `suppressed` or `failed` message: back to `pending`, delivered
   * afresh with DELIVERY_MAX_ATTEMPTS attempts again; its events go on. Mail
   * held back by a suppression can be retried once the address is removed
   * with DELETE /v1/suppressions/:email.
   */
  @Post(':uuid/retry')
  @HttpCode(202)
  @ApiErrors('not_retryable')
  async retry(
    @Auth() auth: AuthContext,
    @Param('uuid') uuid: string,
    @Req() req: Request,
  ): Promise<MessageResponse> {
    return { data: await this.messages.retry(auth.workspaceId, uuid, requestIdOf(req)) };
  }
}

/** The request's id (pino-http's), carried into the delivery job's log lines. */
function requestIdOf(req: Request): string | undefined {
  const id = (req as Request & { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}
