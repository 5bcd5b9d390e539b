import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { documentErrors } from './openapi/document-errors';

/** The document's tags, in the order Swagger UI shows them. */
const TAGS: [string, string][] = [
  ['emails', 'Send email: one message per recipient, delivered by the queue'],
  ['messages', 'Read messages and their events; reschedule, cancel, retry'],
  ['domains', 'Sending domains, their DKIM and SPF records, verification'],
  ['addresses', 'Sender addresses on verified domains'],
  ['contacts', 'Recipients with an optional delivery route'],
  ['suppressions', 'Addresses nothing is sent to'],
  ['api-keys', "The workspace's API keys"],
  ['operator', 'Bootstrap an install with ADMIN_TOKEN: users, workspaces, keys'],
  ['health', 'Liveness of the app and its dependencies'],
];

/**
 * Everything about the HTTP app that is not a module: docs, logger, Express
 * settings (body parsing is middleware of AppModule). main.ts and the e2e
 * tests both call it, so tests run exactly what production runs.
 */
export function configureApp(app: NestExpressApplication): INestApplication {
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('etag', false);

  const builder = new DocumentBuilder()
    .setTitle('Leadpush API')
    .setDescription(
      'Self-hostable transactional email API. Every error is `{"error": "<code>", "message": "…"}` ' +
        '(`ErrorResponse`); each operation lists the codes it can answer.',
    )
    .setVersion('1')
    .addServer('/', 'This Leadpush instance')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Workspace API key' }, 'api-key')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin');
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = documentErrors(SwaggerModule.createDocument(app, builder.build()));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  return app;
}
