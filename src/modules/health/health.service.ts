import { Inject, Injectable } from '@nestjs/common';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import Redis from 'ioredis';
import { ServiceUnavailableError } from '@app/common';
import { REDIS } from '../../redis/redis.token';

const CHECK_TIMEOUT_MS = 1500;
const RETRY_AFTER_SECONDS = 5;

/** Whether the app's dependencies answer: PostgreSQL and Redis. */
@Injectable()
export class HealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** The check's result when both answer; a ServiceUnavailableError naming the ones down otherwise. */
  async check(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.database.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('redis')
            .attempt(async () => {
              await this.redis.ping();
            })
            .withTimeout(CHECK_TIMEOUT_MS),
      ]);
    } catch (error) {
      const result = (error as { getResponse?: () => HealthCheckResult }).getResponse?.();
      if (!result?.details) throw error;
      // Names only: the checks' own messages hold driver text (hosts, user names).
      const down = Object.keys(result.error ?? {});
      throw new ServiceUnavailableError(`Unhealthy: ${down.join(', ')} down`, { down }, RETRY_AFTER_SECONDS);
    }
  }
}
