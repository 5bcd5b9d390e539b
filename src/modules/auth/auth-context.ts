import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { ApiKeyMode } from './api-key-token';
import type { Features } from './entities/user.entity';

/** Who is calling: set by ApiKeyGuard from the bearer token. */
export interface AuthContext {
  workspaceId: string;
  apiKeyId: string;
  /** `test`: what this key sends is a test message (SPEC §14). */
  mode: ApiKeyMode;
  owner: { id: string; emailVerified: boolean; features: Features };
}

export interface AuthenticatedRequest {
  auth?: AuthContext;
}

/** The caller's AuthContext in a handler guarded by ApiKeyGuard. */
export const Auth = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext => {
  const auth = ctx.switchToHttp().getRequest<AuthenticatedRequest>().auth;
  if (!auth) throw new Error('Auth used on a route without ApiKeyGuard');
  return auth;
});

export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}
