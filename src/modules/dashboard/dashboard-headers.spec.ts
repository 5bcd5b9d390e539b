import { join } from 'node:path';
import { dashboardHeaders } from './dashboard-headers';

describe('dashboardHeaders', () => {
  const root = join('/srv', 'dist', 'web');

  it('caches hashed assets for a year, immutable', () => {
    const headers = dashboardHeaders(root, join(root, 'assets', 'index-Dh-j6aJY.js'));
    expect(headers['Cache-Control']).toBe('public, max-age=31536000, immutable');
    expect(headers['Content-Security-Policy']).toBeUndefined();
  });

  it('revalidates index.html on every load and locks the page to its own origin', () => {
    const headers = dashboardHeaders(root, join(root, 'index.html'));
    expect(headers['Cache-Control']).toBe('no-cache');
    expect(headers['Content-Security-Policy']).toContain("connect-src 'self'");
    expect(headers['Content-Security-Policy']).toContain("frame-ancestors 'none'");
    expect(headers['X-Frame-Options']).toBe('DENY');
  });

  it('caches other files for an hour, and an index.html below assets/ as an asset', () => {
    expect(dashboardHeaders(root, join(root, 'favicon.svg'))['Cache-Control']).toBe('public, max-age=3600');
    expect(dashboardHeaders(root, join(root, 'assets', 'index.html'))['Cache-Control']).toContain(
      'immutable',
    );
  });
});
