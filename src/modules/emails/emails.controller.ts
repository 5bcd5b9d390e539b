import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ValidationFailedError } from '@app/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Auth, AuthContext } from '../auth/auth-context';
import { IDEMPOTENCY_HEADER, IdempotencyKeyGuard } from '../idempotency/idempotency-key.guard';
import {
  AcceptedBatchResponse,
  AcceptedEmailResponse,
  SendBatchDto,
  SendEmailDto,
} from './dto/send-email.dto';
import { AcceptOptions, EmailsService } from './emails.service';
import type { SendCommand, SendDraft } from './send-command';
import { Checked, checkBatch, checkSend } from './send-rules';
import { SendingAllowedGuard } from './sending-allowed.guard';
import { ApiErrors } from '../../openapi/api-errors.decorator';

const IDEMPOTENCY_DESCRIPTION =
  'Optional, 1-256 printable ASCII characters, per workspace, kept 24 h. A repeat with the same request ' +
  'answers the first 202 again with `Idempotent-Replayed: true` and creates nothing; a different request ' +
  'is a 409 `idempotency_key_reused`; a repeat while the first still runs is a 409 `idempotency_request_in_progress`.';

/**
 * The HTTP door of the send pipeline: the guards check SPEC §7 steps 1-3,
 * the body rules (send-rules.ts) turn the body into commands or a 422, and
 * EmailsService.accept stores them (step 5 included).
 */
@ApiTags('emails')
@ApiBearerAuth('api-key')
@Controller('v1/emails')
@UseGuards(ApiKeyGuard, SendingAllowedGuard, IdempotencyKeyGuard)
@ApiErrors('upgrade_needed', 'email_verification_required', 'sender_not_verified')
export class EmailsController {
  constructor(private readonly emails: EmailsService) {}

  /**
   * Sends an email: one message per unique recipient (to, then bcc), each
   * delivered as its own SMTP transaction. Answers 202 once every message is
   * stored; read their fate with GET /v1/messages/:uuid.
   */
  @Post()
  @HttpCode(202)
  @ApiBody({ type: SendEmailDto })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: IDEMPOTENCY_DESCRIPTION })
  async send(
    @Auth() auth: AuthContext,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AcceptedEmailResponse> {
    const [command] = commandsOf(auth, checkSend(body, new Date()));
    const { results } = await this.accept(auth, [command], req, res, {});
    return { data: results[0] };
  }

  /**
   * Sends 1 to 100 emails at once (SPEC §10). Every email is checked first:
   * if any breaks a rule or names a sender that is not sendable, the answer
   * is a 422 naming its fields as `emails[i].<field>` and nothing is stored.
   * Otherwise every message of every email is stored in one transaction, and
   * the answer lists each email's result, in order. The Idempotency-Key
   * covers the batch as a whole.
   */
  @Post('batch')
  @HttpCode(202)
  @ApiBody({ type: SendBatchDto })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: IDEMPOTENCY_DESCRIPTION })
  async sendBatch(
    @Auth() auth: AuthContext,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AcceptedBatchResponse> {
    const commands = commandsOf(auth, checkBatch(body, new Date()));
    const { results } = await this.accept(auth, commands, req, res, {
      batch: { field: (i) => `emails[${i}].from` },
    });
    return { data: results };
  }

  private async accept(
    auth: AuthContext,
    commands: SendCommand[],
    req: Request,
    res: Response,
    options: AcceptOptions,
  ) {
    const key = req.headers[IDEMPOTENCY_HEADER];
    const requestId = (req as Request & { id?: unknown }).id;
    const accepted = await this.emails.accept(auth.workspaceId, commands, {
      ...options,
      idempotencyKey: typeof key === 'string' ? key : null,
      requestId: typeof requestId === 'string' ? requestId : undefined,
    });
    if (accepted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return accepted;
  }
}

/** The commands of checked drafts, for the caller's workspace; a body that broke a rule is a 422 naming every field. */
function commandsOf(auth: AuthContext, checked: Checked<SendDraft | SendDraft[]>): SendCommand[] {
  if (!checked.ok) throw new ValidationFailedError(checked.errors);
  const drafts = Array.isArray(checked.value) ? checked.value : [checked.value];
  return drafts.map((draft) => ({
    ...draft,
    workspaceId: auth.workspaceId,
    source: 'api',
    test: auth.mode === 'test',
  }));
}
