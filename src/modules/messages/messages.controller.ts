import { Controller, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Auth, AuthContext } from '../auth/auth-context';
import { ListMessagesQueryDto, MessagePage, MessageResponse } from './dto/message.dto';
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
   * Releases a `suppressed` or `failed` message: back to `pending`, delivered
   * afresh with DELIVERY_MAX_ATTEMPTS attempts again; its events go on. Mail
   * held back by a suppression can be retried once the address is removed
   * with DELETE /v1/suppressions/:email.
   */
  @Post(':uuid/retry')
  @HttpCode(202)
  @ApiConflictResponse({
    description:
      '`not_retryable`: the message is not `suppressed` or `failed`, or its recipient is still on the suppression list',
  })
  @ApiNotFoundResponse({ description: '`not_found`: no such message in this workspace' })
  async retry(
    @Auth() auth: AuthContext,
    @Param('uuid') uuid: string,
    @Req() req: Request,
  ): Promise<MessageResponse> {
    const requestId = (req as Request & { id?: unknown }).id;
    const message = await this.messages.retry(
      auth.workspaceId,
      uuid,
      typeof requestId === 'string' ? requestId : undefined,
    );
    return { data: message };
  }
}
