import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '@app/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Auth, AuthContext } from '../auth/auth-context';
import { AddressesService } from './addresses.service';
import { AddressPage, AddressResponse, CreateAddressDto } from './dto/address.dto';
import { ApiErrors } from '../../openapi/api-errors.decorator';

/** Sender addresses on the workspace's domains. */
@ApiTags('addresses')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/addresses')
export class AddressesController {
  constructor(private readonly addresses: AddressesService) {}

  /**
   * Creates a sender address ("Create Domain Address") on one of the
   * workspace's domains (422 otherwise). It is `sendable` once the domain is
   * verified. 409 if it exists.
   */
  @Post()
  @ApiErrors('conflict')
  async create(@Auth() auth: AuthContext, @Body() dto: CreateAddressDto): Promise<AddressResponse> {
    return { data: await this.addresses.create(auth.workspaceId, dto) };
  }

  /** Lists the workspace's sender addresses, newest first. */
  @Get()
  list(@Auth() auth: AuthContext, @Query() page: PageQueryDto): Promise<AddressPage> {
    return this.addresses.list(auth.workspaceId, page);
  }

  /** A sender address. */
  @Get(':id')
  async get(@Auth() auth: AuthContext, @Param('id') id: string): Promise<AddressResponse> {
    return { data: await this.addresses.get(auth.workspaceId, id) };
  }

  /** Deletes a sender address; contacts routed through it lose that route. */
  @Delete(':id')
  @HttpCode(204)
  remove(@Auth() auth: AuthContext, @Param('id') id: string): Promise<void> {
    return this.addresses.remove(auth.workspaceId, id);
  }
}
