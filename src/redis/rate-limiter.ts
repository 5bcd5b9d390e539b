import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { REDIS } from './redis.token';

/** INCR the window's counter and give it a lifetime on first use: one round trip. */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

export interface RateLimitDecision {
  allowed: boolean;
  /** Seconds until the current window ends. */
  retryAfterSeconds: number;
}

/**
 * RATE_LIMIT_RPS per API key in one-second windows counted in Redis, so the
 * limit holds across every instance. When Redis cannot answer, requests are
 * let through: sending must keep working through a Redis outage.
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger(RateLimiter.name);
  private lastFailureLog = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async hit(subject: string): Promise<RateLimitDecision> {
    const limit = this.config.rateLimitRps;
    if (limit === 0) return { allowed: true, retryAfterSeconds: 0 };
    const now = Date.now();
    const window = Math.floor(now / 1000);
    try {
      const count = (await this.redis.eval(
        HIT_SCRIPT,
        1,
        `${this.config.queuePrefix}:ratelimit:${subject}:${window}`,
        2000,
      )) as number;
      return { allowed: count <= limit, retryAfterSeconds: 1 };
    } catch (error) {
      if (now - this.lastFailureLog > 10_000) {
        this.lastFailureLog = now;
        this.logger.warn(`Rate limit not enforced, Redis unavailable: ${(error as Error).message}`);
      }
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }
}
