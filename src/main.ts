import 'reflect-metadata';
import { INestApplicationContext, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { ConfigError, loadConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const module = AppModule.forRoot(config);
  if (config.role === 'worker') {
    // No HTTP server, routes or docs: only the providers (queue consumer, sweeper).
    const worker = await NestFactory.createApplicationContext(module, { bufferLogs: true });
    worker.useLogger(worker.get(Logger));
    closeOnSignals(worker);
    await worker.init();
    worker.get(Logger).log('Worker started');
    return;
  }
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bodyParser: false,
    bufferLogs: true,
  });
  configureApp(app);
  closeOnSignals(app, () => {
    const server = app.getHttpServer() as Server;
    server.close();
    server.closeIdleConnections();
  });
  await app.listen(config.port);
}

/** Longest a shutdown may take before the process gives up on it. */
const SHUTDOWN_TIMEOUT_MS = 20_000;

/**
 * SIGTERM / SIGINT: stop taking requests (`stopAccepting`) and jobs, let
 * in-flight work finish (see DeliveryWorker), close connections, exit 0.
 * Nest's own enableShutdownHooks would re-raise the signal and end with its
 * status instead.
 */
function closeOnSignals(app: INestApplicationContext, stopAccepting: () => void = () => undefined): void {
  const shutdown = (signal: NodeJS.Signals) => {
    const logger = new NestLogger('Shutdown');
    logger.log(`${signal} received, shutting down`);
    stopAccepting();
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error(`Shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void bootstrap();
