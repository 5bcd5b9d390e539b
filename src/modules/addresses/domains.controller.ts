import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '@app/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Auth, AuthContext } from '../auth/auth-context';
import { DomainsService } from './domains.service';
import { CreateDomainDto, DomainPage, DomainResponse, DomainVerificationResponse } from './dto/domain.dto';
import { ApiErrors } from '../../openapi/api-errors.decorator';

/** Sending domains: DKIM keys, the DNS records to publish, and their verification. */
@ApiTags('domains')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/domains')
export class DomainsController {
  constructor(private readonly domains: DomainsService) {}

  /**
   * Adds a domain and generates its DKIM key pair. Publish the two TXT records
   * in `records`, then call verify. 409 if the workspace already has it.
   */
  @Post()
  @ApiErrors('conflict')
  async create(@Auth() auth: AuthContext, @Body() dto: CreateDomainDto): Promise<DomainResponse> {
    return { data: await this.domains.create(auth.workspaceId, dto.name) };
  }

  /** Lists the workspace's domains, newest first. */
  @Get()
  list(@Auth() auth: AuthContext, @Query() page: PageQueryDto): Promise<DomainPage> {
    return this.domains.list(auth.workspaceId, page);
  }

  /** A domain with the DNS records to publish. */
  @Get(':id')
  async get(@Auth() auth: AuthContext, @Param('id') id: string): Promise<DomainResponse> {
    return { data: await this.domains.get(auth.workspaceId, id) };
  }

  /**
   * Deletes a domain and its sender addresses: nothing can be sent from it any
   * more, and contacts routed through one of its addresses lose that route.
   */
  @Delete(':id')
  @HttpCode(204)
  remove(@Auth() auth: AuthContext, @Param('id') id: string): Promise<void> {
    return this.domains.remove(auth.workspaceId, id);
  }

  /**
   * Looks both records up in DNS. `status` becomes `verified` when both carry
   * the expected values; `checks` tells, per record, what was found. A DNS
   * failure leaves the domain as it was (check `status: "error"`) and is not
   * an HTTP error. A verified domain stays verified when a later check fails.
   */
  @Post(':id/verify')
  @HttpCode(200)
  async verify(@Auth() auth: AuthContext, @Param('id') id: string): Promise<DomainVerificationResponse> {
    return { data: await this.domains.verify(auth.workspaceId, id) };
  }
}
