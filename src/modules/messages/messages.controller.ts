import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
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
}
