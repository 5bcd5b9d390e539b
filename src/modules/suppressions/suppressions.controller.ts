import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { PageQueryDto } from '@app/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Auth, AuthContext } from '../auth/auth-context';
import { CreateSuppressionDto, SuppressionPage, SuppressionResponse } from './dto/suppression.dto';
import { SuppressionsService } from './suppressions.service';

/** Addresses this workspace never sends to: hard bounces and manual entries. */
@ApiTags('suppressions')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  /** Lists suppressed addresses, newest first. */
  @Get()
  list(@Auth() auth: AuthContext, @Query() page: PageQueryDto): Promise<SuppressionPage> {
    return this.suppressions.list(auth.workspaceId, page);
  }

  /** Suppresses an address (reason `manual`): 201 when added, 200 when it was already suppressed. */
  @Post()
  async add(
    @Auth() auth: AuthContext,
    @Body() dto: CreateSuppressionDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SuppressionResponse> {
    const { created, suppression } = await this.suppressions.add(auth.workspaceId, dto.email, 'manual');
    res.status(created ? 201 : 200);
    return { data: suppression };
  }

  /** Removes an address from the list, so it can be sent to again. */
  @Delete(':email')
  @HttpCode(204)
  async remove(@Auth() auth: AuthContext, @Param('email') email: string): Promise<void> {
    await this.suppressions.remove(auth.workspaceId, email);
  }
}
