import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { dataSourceOptions, STATEMENT_TIMEOUT_MS } from './data-source';
import { ensureDatabase, runMigrations } from './migrate';
import { Sql } from './sql';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.databaseUrl, STATEMENT_TIMEOUT_MS),
        autoLoadEntities: true,
      }),
      dataSourceFactory: async (options) => {
        const url = (options as { url: string }).url;
        await ensureDatabase(url);
        const dataSource = await new DataSource(options!).initialize();
        await runMigrations(dataSource);
        return dataSource;
      },
    }),
  ],
  providers: [Sql],
  exports: [Sql],
})
export class DatabaseModule {}
