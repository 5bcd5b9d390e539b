import { UnauthorizedError } from '@app/common';
import { isApiKeyToken } from './api-key-token';
import { bearerToken } from './auth-context';

/**
 * Express middleware for the workspace API (`/v1`), mounted before the body
 * parser: a request without `Authorization: Bearer <token>`, or whose token
 * does not have an API key's shape, is answered 401 before its body is read
 * or parsed. ApiKeyGuard still authenticates the token itself.
 */
export function requireApiKeyShape(
  req: { headers: Record<string, unknown> },
  _res: unknown,
  next: (error?: unknown) => void,
): void {
  const token = bearerToken(req.headers.authorization);
  next(token && isApiKeyToken(token) ? undefined : new UnauthorizedError());
}
