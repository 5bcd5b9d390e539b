import { relative, sep } from 'node:path';

export const DASHBOARD_PATH = '/dashboard';

/**
 * The page may only load its own files and talk to its own origin (the API):
 * the API key it holds in sessionStorage cannot be sent anywhere else, and it
 * cannot be framed.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Response headers of a dashboard file. Vite names everything under assets/
 * by its content hash, so those are cached for a year and never revalidated;
 * index.html (which names the current hashes) is revalidated on every load;
 * other files (the favicon) are cached for an hour.
 */
export function dashboardHeaders(root: string, file: string): Record<string, string> {
  const path = relative(root, file);
  const headers: Record<string, string> = { 'X-Content-Type-Options': 'nosniff' };
  if (path === 'index.html') {
    return {
      ...headers,
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    };
  }
  if (path.startsWith(`assets${sep}`))
    return { ...headers, 'Cache-Control': 'public, max-age=31536000, immutable' };
  return { ...headers, 'Cache-Control': 'public, max-age=3600' };
}
