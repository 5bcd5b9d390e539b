import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { rejectDeepJson } from '@app/common';
import { ApiKeyMiddleware } from './modules/auth/api-key.middleware';

/** The routes that take a body up to MAX_BODY_BYTES (SPEC §7, §10); every other route takes SMALL_BODY_BYTES. */
const SEND_ROUTES = ['/v1/emails', '/v1/emails/batch'];
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const SMALL_BODY_BYTES = 100 * 1024;

const JSON_TYPES = ['application/json', 'application/*+json'];
const parseSendBody = express.json({ limit: MAX_BODY_BYTES, type: JSON_TYPES });
const parseSmallBody = express.json({ limit: SMALL_BODY_BYTES, type: JSON_TYPES });

/**
 * JSON bodies, with the limit of the route: Express routes ignore case and
 * one trailing slash, so the comparison does too.
 */
function parseJson(req: Request, res: Response, next: NextFunction): void {
  const path = req.path.toLowerCase().replace(/(.)\/$/, '$1');
  const isSend = req.method === 'POST' && SEND_ROUTES.includes(path);
  (isSend ? parseSendBody : parseSmallBody)(req, res, next);
}

/**
 * Everything about the HTTP app that is not a module: body parsing, docs,
 * logger. main.ts and the e2e tests both call it, so tests run
 * exactly what production runs. The workspace API authenticates before
 * the body is read (ApiKeyMiddleware).
 */
export function configureApp(app: NestExpressApplication): INestApplication {
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('etag', false);
  const apiKeys = app.get(ApiKeyMiddleware);
  app.use('/v1', (req: Request, res: Response, next: NextFunction) => apiKeys.use(req, res, next));
  app.use(parseJson);
  app.use(rejectDeepJson);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Leadpush API')
      .setDescription('Self-hostable transactional email API. Errors: `{"error": "<code>", "message": "…"}`.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Workspace API key' }, 'api-key')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  return app;
}
