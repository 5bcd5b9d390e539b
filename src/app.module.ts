import { BullModule } from '@nestjs/bull';
import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod, Type } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AllExceptionsFilter, createValidationPipe, rejectDeepJson } from '@app/common';
import { parseJson } from './body-parser';
import { AppConfig, WorkerQueue } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { AddressesModule } from './modules/addresses/addresses.module';
import { ApiKeyMiddleware } from './modules/auth/api-key.middleware';
import { AuthModule } from './modules/auth/auth.module';
import { ContactsModule } from './modules/contacts/contacts.module';
import { DashboardModule } from './modules/dashboard/dashboard.module';
import { DeliveryWorkerModule } from './modules/delivery/delivery-worker.module';
import { EmailsModule } from './modules/emails/emails.module';
import { HealthModule } from './modules/health/health.module';
import { InboundModule } from './modules/inbound/inbound.module';
import { MessagesModule } from './modules/messages/messages.module';
import { MetricsModule } from './modules/metrics/metrics.module';
import { QueueBoardModule } from './modules/queue-board/queue-board.module';
import { SuppressionsModule } from './modules/suppressions/suppressions.module';
import { SmtpRelayModule } from './modules/smtp-relay/smtp-relay.module';
import { WebhookWorkerModule } from './modules/webhooks/webhook-worker.module';
import { WebhooksModule } from './modules/webhooks/webhooks.module';
import { QueuesModule } from './queues';
import { RedisModule } from './redis/redis.module';
import { assignRequestId, loggerOptions } from './logger';

/**
 * A job taken by a worker that died is handed to another worker once its lock
 * expires: at most lockDuration + stalledInterval (15 s) after the death.
 */
const QUEUE_SETTINGS = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 3 };

/** The worker side of each of WORKER_QUEUES; an api process has none. */
const WORKER_MODULES: Record<WorkerQueue, Type> = {
  delivery: DeliveryWorkerModule,
  webhooks: WebhookWorkerModule,
  inbound: InboundModule,
};

function workerModules(config: AppConfig): Type[] {
  return [...config.workerQueues].map((queue) => WORKER_MODULES[queue]);
}

@Module({})
export class AppModule implements NestModule {
  /** The whole app for one validated configuration (tests build theirs the same way). */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerOptions(config)),
        DatabaseModule,
        RedisModule,
        BullModule.forRoot({ url: config.redisUrl, prefix: config.queuePrefix, settings: QUEUE_SETTINGS }),
        QueuesModule,
        AuthModule,
        AddressesModule,
        ContactsModule,
        EmailsModule,
        MessagesModule,
        SuppressionsModule,
        HealthModule,
        MetricsModule,
        WebhooksModule,
        ...workerModules(config),
        ...(config.role === 'worker' ? [] : [SmtpRelayModule, DashboardModule.forRoot()]),
        ...(config.role !== 'worker' && config.adminToken
          ? [QueueBoardModule.forRoot(config.adminToken)]
          : []),
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }

  /**
   * What runs before the routes, after the request logger where it runs (the
   * middleware of a global module comes first): every request gets its id,
   * the workspace API authenticates and applies its rate limits before the
   * body is read, then JSON bodies are parsed with the route's limit and
   * refused when nested too deep.
   */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(assignRequestId).forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
    consumer.apply(ApiKeyMiddleware).forRoutes({ path: 'v1{/*splat}', method: RequestMethod.ALL });
    consumer.apply(parseJson, rejectDeepJson).forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
  }
}
