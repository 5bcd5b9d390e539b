import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminController } from './admin.controller';
import { AdminGuard } from './admin.guard';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { ApiKey } from './entities/api-key.entity';
import { User } from './entities/user.entity';
import { Workspace } from './entities/workspace.entity';
import { UsersService } from './users.service';

/**
 * Users, workspaces, API keys and the operator API. Global so every feature
 * controller can use ApiKeyGuard / AdminGuard.
 * Tables it owns (no other module reads or writes them): users, workspaces, api_keys.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([User, Workspace, ApiKey])],
  controllers: [AdminController, ApiKeysController],
  providers: [ApiKeysService, UsersService, ApiKeyGuard, AdminGuard],
  exports: [ApiKeysService, ApiKeyGuard, AdminGuard],
})
export class AuthModule {}
