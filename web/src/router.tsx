import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useSyncExternalStore } from 'react';

/**
 * A router of a few lines over the History API: the dashboard has a handful
 * of flat pages, so a routing library would only add to the bundle. Paths are
 * written without the `/dashboard` base, which the server serves (with an SPA
 * fallback) for every path below it.
 */
export const BASE = '/dashboard';

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

const currentUrl = () => window.location.pathname + window.location.search;

export function navigate(to: string, { replace = false } = {}): void {
  const url = BASE + to;
  if (url === currentUrl()) return;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  listeners.forEach((listener) => listener());
}

export interface Location {
  /** The path below the base, always starting with `/`. */
  path: string;
  query: URLSearchParams;
}

export function useLocation(): Location {
  const url = useSyncExternalStore(subscribe, currentUrl);
  const parsed = new URL(url, window.location.origin);
  const path = parsed.pathname.startsWith(BASE) ? parsed.pathname.slice(BASE.length) : parsed.pathname;
  return { path: path.replace(/\/+$/, '') || '/', query: parsed.searchParams };
}

/** Matches `path` against a pattern like `/messages/:uuid`; the named parts, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const names: string[] = [];
  const source = pattern.replace(/:(\w+)/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const found = new RegExp(`^${source}$`).exec(path);
  if (!found) return null;
  return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
}

/** An in-app link: a real `<a href>` (open in a new tab works), navigated without a reload. */
export function Link({ to, onClick, ...props }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={BASE + to} onClick={handle} {...props} />;
}

/** Sets the document title, and so what a screen reader announces for the page. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Leadpush`;
  }, [title]);
}
