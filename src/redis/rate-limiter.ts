import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { REDIS } from './redis.token';

/**
 * One round trip for both counters of the window. The key's counter counts
 * every request; the workspace's counter only those its key let through, so a
 * key over its own limit does not eat its workspace's share. Each counter
 * gets a lifetime on first use. Answers 1 (allowed) or 0.
 */
const HIT_SCRIPT = `
local perKey = redis.call('INCR', KEYS[1])
if perKey == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if perKey > tonumber(ARGV[2]) then return 0 end
local perWorkspace = redis.call('INCR', KEYS[2])
if perWorkspace == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
if perWorkspace > tonumber(ARGV[3]) then return 0 end
return 1`;

export interface RateLimitDecision {
  allowed: boolean;
  /** Seconds until the current window ends. */
  retryAfterSeconds: number;
}

/** Who a request counts against. */
export interface RateLimitSubject {
  apiKeyId: string;
  workspaceId: string;
}

/**
 * RATE_LIMIT_RPS per API key and RATE_LIMIT_WORKSPACE_RPS per workspace (all
 * its keys together) in one-second windows counted in Redis, so the limits
 * hold across every instance. When Redis cannot answer, requests are let
 * through: sending must keep working through a Redis outage.
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger(RateLimiter.name);
  private lastFailureLog = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async hit(subject: RateLimitSubject): Promise<RateLimitDecision> {
    const { rateLimitRps, rateLimitWorkspaceRps, queuePrefix } = this.config;
    if (rateLimitRps === 0) return { allowed: true, retryAfterSeconds: 0 };
    const now = Date.now();
    const window = Math.floor(now / 1000);
    try {
      const allowed = (await this.redis.eval(
        HIT_SCRIPT,
        2,
        `${queuePrefix}:ratelimit:key:${subject.apiKeyId}:${window}`,
        `${queuePrefix}:ratelimit:workspace:${subject.workspaceId}:${window}`,
        2000,
        rateLimitRps,
        rateLimitWorkspaceRps,
      )) as number;
      return { allowed: allowed === 1, retryAfterSeconds: 1 };
    } catch (error) {
      if (now - this.lastFailureLog > 10_000) {
        this.lastFailureLog = now;
        this.logger.warn(`Rate limit not enforced, Redis unavailable: ${(error as Error).message}`);
      }
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }
}
