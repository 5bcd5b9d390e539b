import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import express from 'express';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';

/**
 * Makes `prototype` the Express app's `request` or `response` prototype in
 * place of the one Express made: it gets what that one inherits and its `app`.
 */
function adopt(prototype: object, expressOwn: object, app: express.Express): void {
  Object.setPrototypeOf(prototype, Object.getPrototypeOf(expressOwn));
  Object.defineProperty(prototype, 'app', {
    configurable: true,
    enumerable: true,
    writable: true,
    value: app,
  });
}

/**
 * Nest's Express adapter, with one change: Node creates each request and
 * response as an instance of a class whose prototype is the Express app's,
 * so Express's `Object.setPrototypeOf` on them finds nothing to change.
 * Setting the prototypes of live objects made V8 keep what each request
 * allocated through two scavenges, about 16 kB a request that only a
 * mark-compact freed. Without it, the API spends about 40 % less CPU per
 * request (bench/README.md, tenth round).
 */
export class HttpAdapter extends ExpressAdapter {
  constructor() {
    super(express());
  }

  /** Plain HTTP: the app passes no `httpsOptions`, `return503OnClosing` or `forceCloseConnections`. */
  override initHttpServer(_options: NestApplicationOptions): void {
    const app = this.getInstance<express.Express>();
    class AppRequest extends IncomingMessage {}
    class AppResponse extends ServerResponse {}
    adopt(AppRequest.prototype, app.request, app);
    adopt(AppResponse.prototype, app.response, app);
    app.request = AppRequest.prototype as express.Request;
    app.response = AppResponse.prototype as express.Response;
    this.httpServer = createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
  }
}
