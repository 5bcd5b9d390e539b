import 'reflect-metadata';
import { INestApplicationContext, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { HttpAdapter } from './http-adapter';
import { ConfigError, loadConfig } from './config/app-config';
import { listenForProbes } from './worker-http';

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
    // No API routes or docs: the providers (queue consumer, sweeper) and /health + /metrics on PORT.
    const worker = await NestFactory.createApplicationContext(module, { bufferLogs: true });
    worker.useLogger(worker.get(Logger));
    await worker.init();
    const probes = await listenForProbes(worker, config.port);
    closeOnSignals(worker, () => stopServer(probes));
    worker.get(Logger).log('Worker started');
    return;
  }
  const app = await NestFactory.create<NestExpressApplication>(module, new HttpAdapter(), {
    bodyParser: false,
    bufferLogs: true,
  });
  configureApp(app);
  closeOnSignals(app, () => stopServer(app.getHttpServer() as Server));
  await app.listen(config.port);
}

function stopServer(server: Server): void {
  server.close();
  server.closeIdleConnections();
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
