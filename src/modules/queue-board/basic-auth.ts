import type { NextFunction, Request, Response } from 'express';
import { secretCheck, UnauthorizedError } from '@app/common';

/** The password of an `Authorization: Basic` header (any user name), or null when there is none. */
export function basicPassword(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!match) return null;
  const credentials = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = credentials.indexOf(':');
  return colon < 0 ? null : credentials.slice(colon + 1);
}

/**
 * Middleware that lets through only requests whose Basic auth password is
 * `password` (compared in constant time); others get a 401 in the SPEC §3
 * envelope with a `WWW-Authenticate` challenge, so a browser asks for it.
 */
export function basicAuth(password: string, realm: string) {
  const matches = secretCheck(password);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (matches(basicPassword(req.headers.authorization))) return next();
    res.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    next(new UnauthorizedError('Missing or wrong credentials'));
  };
}
