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
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Auth, AuthContext } from '../auth/auth-context';
import { ContactsService } from './contacts.service';
import {
  ContactPage,
  ContactQueryDto,
  ContactResponse,
  CreateContactDto,
  UpdateContactDto,
} from './dto/contact.dto';
import { ApiErrors } from '../../openapi/api-errors.decorator';

/** The workspace's contacts and their delivery routes. */
@ApiTags('contacts')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  /**
   * Creates a contact. 409 if the workspace has a contact with this email;
   * 422 if `delivery_address_id` is not one of its sender addresses.
   */
  @Post()
  @ApiErrors('conflict')
  async create(@Auth() auth: AuthContext, @Body() dto: CreateContactDto): Promise<ContactResponse> {
    return { data: await this.contacts.create(auth.workspaceId, dto) };
  }

  /** Lists contacts, newest first; `email` finds the one contact with that address. */
  @Get()
  list(@Auth() auth: AuthContext, @Query() query: ContactQueryDto): Promise<ContactPage> {
    return this.contacts.list(auth.workspaceId, query);
  }

  /** A contact. */
  @Get(':id')
  async get(@Auth() auth: AuthContext, @Param('id') id: string): Promise<ContactResponse> {
    return { data: await this.contacts.get(auth.workspaceId, id) };
  }

  /** Changes a contact's email, names or delivery route; `null` clears a name or the route. */
  @Patch(':id')
  @ApiErrors('conflict')
  async update(
    @Auth() auth: AuthContext,
    @Param('id') id: string,
    @Body() dto: UpdateContactDto,
  ): Promise<ContactResponse> {
    return { data: await this.contacts.update(auth.workspaceId, id, dto) };
  }

  /** Deletes a contact. */
  @Delete(':id')
  @HttpCode(204)
  remove(@Auth() auth: AuthContext, @Param('id') id: string): Promise<void> {
    return this.contacts.remove(auth.workspaceId, id);
  }
}
