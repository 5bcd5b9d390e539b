import {
  Global,
  Inject,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RateLimiter } from './rate-limiter';
import { REDIS } from './redis.token';

/**
 * A Redis connection for short commands (health, rate limits). It never queues
 * commands while disconnected and gives up on one after a second: a call
 * fails fast instead of waiting for Redis.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const logger = new Logger('Redis');
        const client = new Redis(config.redisUrl, {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: 2000,
          commandTimeout: 1000,
          retryStrategy: (times) => Math.min(times * 200, 2000),
        });
        let reported = false;
        client.on('error', (error) => {
          if (!reported) logger.warn(`Redis unavailable: ${error.message}`);
          reported = true;
        });
        client.on('ready', () => {
          reported = false;
        });
        return client;
      },
    },
    RateLimiter,
  ],
  exports: [REDIS, RateLimiter],
})
export class RedisModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RedisModule.name);

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /**
   * Bull's data must never be evicted: with any other maxmemory-policy Redis may
   * drop queued jobs under memory pressure. Warn when the policy is different
   * (some managed Redis services forbid CONFIG; then nothing can be checked).
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        if (this.redis.status === 'ready') return resolve();
        const timer = setTimeout(() => reject(new Error('not ready')), 2000);
        this.redis.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const [, policy] = (await this.redis.config('GET', 'maxmemory-policy')) as string[];
      if (policy && policy !== 'noeviction') {
        this.logger.warn(
          `Redis maxmemory-policy is "${policy}": set it to "noeviction", or Redis may evict queued delivery jobs`,
        );
      }
    } catch {
      this.logger.warn('Could not read Redis maxmemory-policy; make sure it is "noeviction"');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}
