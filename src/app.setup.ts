import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import { Logger } from 'nestjs-pino';
import { rejectDeepJson } from '@app/common';

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Everything about the HTTP app that is not a module: body parsing, docs,
 * logger. main.ts and the e2e tests both call it, so tests run
 * exactly what production runs.
 */
export function configureApp(app: NestExpressApplication): INestApplication {
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: MAX_BODY_BYTES, type: ['application/json', 'application/*+json'] }));
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
