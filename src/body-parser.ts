import express, { NextFunction, Request, Response } from 'express';

/** The routes that take a body up to MAX_BODY_BYTES (SPEC §7, §10); every other route takes SMALL_BODY_BYTES. */
const SEND_ROUTES = ['/v1/emails', '/v1/emails/batch'];
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const SMALL_BODY_BYTES = 100 * 1024;

const JSON_TYPES = ['application/json', 'application/*+json'];
const parseSendBody = express.json({ limit: MAX_BODY_BYTES, type: JSON_TYPES });
const parseSmallBody = express.json({ limit: SMALL_BODY_BYTES, type: JSON_TYPES });

/**
 * Parses JSON bodies with the limit of the route: Express routes ignore case
 * and one trailing slash, so the comparison does too. A body over the limit
 * is a 413 before anything parses it.
 */
export function parseJson(req: Request, res: Response, next: NextFunction): void {
  const path = req.originalUrl
    .split('?')[0]
    .toLowerCase()
    .replace(/(.)\/$/, '$1');
  const isSend = req.method === 'POST' && SEND_ROUTES.includes(path);
  (isSend ? parseSendBody : parseSmallBody)(req, res, next);
}
