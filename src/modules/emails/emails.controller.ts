import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Auth, AuthContext } from '../auth/auth-context';
import { IDEMPOTENCY_HEADER, IdempotencyKeyGuard } from '../idempotency/idempotency-key.guard';
import { idempotentRequest } from '../idempotency/idempotency.service';
import { AcceptedEmailResponse, SendEmailDto } from './dto/send-email.dto';
import { EmailsService } from './emails.service';
import { SendingAllowedGuard } from './sending-allowed.guard';

@ApiTags('emails')
@ApiBearerAuth('api-key')
@Controller('v1/emails')
export class EmailsController {
  constructor(private readonly emails: EmailsService) {}

  /**
   * Sends an email: one message per unique recipient (to, then bcc), each
   * delivered as its own SMTP transaction. Answers 202 once every message is
   * stored; read their fate with GET /v1/messages/:uuid.
   */
  @Post()
  @HttpCode(202)
  @UseGuards(ApiKeyGuard, SendingAllowedGuard, IdempotencyKeyGuard)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Optional, 1-256 printable ASCII characters, per workspace, kept 24 h. A repeat with the same body ' +
      'answers the first 202 again with `Idempotent-Replayed: true` and creates nothing; a different body ' +
      'is a 409 `idempotency_key_reused`; a repeat while the first still runs is a 409 `idempotency_request_in_progress`.',
  })
  async send(
    @Auth() auth: AuthContext,
    @Body() dto: SendEmailDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AcceptedEmailResponse> {
    const key = req.headers[IDEMPOTENCY_HEADER];
    const requestId = (req as Request & { id?: unknown }).id;
    const { result, replayed } = await this.emails.send(
      auth.workspaceId,
      dto,
      typeof key === 'string' ? idempotentRequest(key, req.body) : null,
      typeof requestId === 'string' ? requestId : undefined,
    );
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    return { data: result };
  }
}
