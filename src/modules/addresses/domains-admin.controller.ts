import { Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard';
import { DomainsService } from './domains.service';
import { DomainResponse } from './dto/domain.dto';

/** Operator API for domains. Bearer ADMIN_TOKEN. */
@ApiTags('operator')
@ApiBearerAuth('admin')
@UseGuards(AdminGuard)
@Controller('admin/v1/domains')
export class DomainsAdminController {
  constructor(private readonly domains: DomainsService) {}

  /** Marks a domain of any workspace verified without looking at DNS (operator override). */
  @Post(':id/verify')
  @HttpCode(200)
  async verify(@Param('id') id: string): Promise<DomainResponse> {
    return { data: await this.domains.verifyAsOperator(id) };
  }
}
