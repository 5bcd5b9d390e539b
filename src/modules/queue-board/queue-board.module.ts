import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { DynamicModule, Module } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { QUEUES } from '../../queues';
import { basicAuth } from './basic-auth';

export const QUEUE_BOARD_ROUTE = '/admin/queues';

/**
 * The page may load only what it is served from here: its scripts, styles
 * and images come from @bull-board/ui's files; the web font it links to
 * elsewhere is not fetched (the page falls back to a system font).
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self'; frame-ancestors 'none'";

function localOnly(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  next();
}

/**
 * Bull Board (SPEC §15) at /admin/queues for every queue of QUEUES, behind
 * HTTP Basic auth whose password is ADMIN_TOKEN (any user name). AppModule
 * imports it only when ADMIN_TOKEN is set, in the roles that serve HTTP;
 * without it the path is a 404 like any unknown route.
 */
@Module({})
export class QueueBoardModule {
  static forRoot(adminToken: string): DynamicModule {
    const auth = basicAuth(adminToken, 'Leadpush queues');
    return {
      module: QueueBoardModule,
      imports: [
        BullBoardModule.forRoot({
          route: QUEUE_BOARD_ROUTE,
          adapter: ExpressAdapter,
          middleware: [auth, localOnly],
          boardOptions: { uiConfig: { boardTitle: 'Leadpush queues' } },
        }),
        BullBoardModule.forFeature(...QUEUES.map((name) => ({ name, adapter: BullAdapter }))),
      ],
    };
  }
}
