import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { HttpAdapter } from '../../src/http-adapter';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BASE_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  http: TestAgent;
  /** A connection to this app's own database, for assertions. */
  db: Client;
  admin(method: 'get' | 'post' | 'patch' | 'delete', path: string): request.Test;
  /** Closes the Nest app only (once, however often it is called), for tests of what a closing app does. */
  closeApp(): Promise<void>;
  /** Closes the app (if closeApp has not), then drops the database and the queue keys. */
  close(): Promise<void>;
}

function uniqueName(kind: string): string {
  return `leadpush_${kind}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * Boots the real AppModule (as main.ts does) against real PostgreSQL and Redis,
 * with a database and a QUEUE_PREFIX of its own: tests never share queues or
 * rows with another test file. close() drops the database and the queue keys.
 */
/** A URL for a new database of this test run's own, next to TEST_DATABASE_URL. */
export function newDatabaseUrl(kind = 'test'): string {
  return withDatabase(BASE_DATABASE_URL, uniqueName(kind));
}

/** A QUEUE_PREFIX of this test run's own. */
export function newQueuePrefix(): string {
  return uniqueName('q');
}

export const TEST_REDIS_URL = BASE_REDIS_URL;

export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const databaseUrl = env.DATABASE_URL ?? newDatabaseUrl();
  const config = loadConfig({
    ADMIN_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RATE_LIMIT_RPS: '0',
    REDIS_URL: BASE_REDIS_URL,
    QUEUE_PREFIX: newQueuePrefix(),
    SMTP_URL: 'smtp://127.0.0.1:1',
    ...env,
    DATABASE_URL: databaseUrl,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>(new HttpAdapter(), {
    bodyParser: false,
    logger: false,
  });
  configureApp(app);
  await app.init();

  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const http = request.agent(app.getHttpServer());
  let closed = false;
  let appClosed: Promise<void> | undefined;
  const closeApp = () => (appClosed ??= app.close());
  return {
    app,
    config,
    http,
    db,
    admin: (method, path) => http[method](path).set('Authorization', `Bearer ${ADMIN_TOKEN}`),
    closeApp,
    async close() {
      if (closed) return;
      closed = true;
      await closeApp();
      await db.end();
      if (!env.DATABASE_URL) await dropDatabase(databaseUrl);
      await deleteKeys(config.redisUrl, config.queuePrefix);
    },
  };
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Deletes this run's queue keys (never FLUSHALL: the Redis is shared). */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // the test's own redis-server may already be gone
  } finally {
    redis.disconnect();
  }
}

export interface Workspace {
  token: string;
  workspaceId: string;
  userId: string;
  apiKeyId: string;
  /** An agent call with this workspace's bearer token. */
  api(method: 'get' | 'post' | 'patch' | 'delete' | 'put', path: string): request.Test;
}

/** Creates a user, a workspace and an API key through the operator API. */
export async function createWorkspace(
  t: TestApp,
  owner: { email_verified?: boolean; features?: Record<string, boolean> } = {},
): Promise<Workspace> {
  const email = `${randomBytes(6).toString('hex')}@owner.test`;
  const user = await t
    .admin('post', '/admin/v1/users')
    .send({ email, email_verified: true, features: { 'smtp.enabled': true }, ...owner })
    .expect(201);
  const workspace = await t
    .admin('post', '/admin/v1/workspaces')
    .send({ name: `ws ${email}`, owner_id: user.body.data.id })
    .expect(201);
  const key = await t
    .admin('post', `/admin/v1/workspaces/${workspace.body.data.id}/api-keys`)
    .send({ name: 'test key' })
    .expect(201);
  const token: string = key.body.data.token;
  return {
    token,
    workspaceId: workspace.body.data.id,
    userId: user.body.data.id,
    apiKeyId: key.body.data.id,
    api: (method, path) => t.http[method](path).set('Authorization', `Bearer ${token}`),
  };
}

/** Polls `check` every `intervalMs` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
