import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type Page } from './api';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Loads again; `quiet` keeps showing the current data meanwhile (polling). */
  reload(quiet?: boolean): void;
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'client_error', String(error));
}

/** Loads `load()` now and whenever `deps` change; answers that arrive after a newer load are dropped. */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const run = useCallback(load, deps);

  const reload = useCallback(
    (quiet = false) => {
      const mine = ++generation.current;
      if (!quiet) setLoading(true);
      run().then(
        (value) => {
          if (mine !== generation.current) return;
          setData(value);
          setError(undefined);
          setLoading(false);
        },
        (failure: unknown) => {
          if (mine !== generation.current) return;
          setError(asApiError(failure));
          setLoading(false);
        },
      );
    },
    [run],
  );

  useEffect(() => {
    reload();
    return () => {
      generation.current += 1;
    };
  }, [reload]);

  return { data, error, loading, reload };
}

/** Calls `tick` every `ms` while `active`; stops while the tab is hidden. */
export function useInterval(tick: () => void, ms: number, active: boolean): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') latest.current();
    }, ms);
    return () => window.clearInterval(timer);
  }, [ms, active]);
}

export interface Action {
  busy: boolean;
  error: ApiError | undefined;
  run(task: () => Promise<unknown>): Promise<boolean>;
  clear(): void;
}

/** A write to the API: tracks whether it runs and keeps its error for display. Resolves true on success. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const run = useCallback(async (task: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await task();
      return true;
    } catch (failure) {
      setError(asApiError(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: useCallback(() => setError(undefined), []) };
}

export interface PagedList<T> {
  items: T[];
  error: ApiError | undefined;
  loading: boolean;
  hasMore: boolean;
  loadMore(): void;
  /** Reads the list again from its first page. */
  reload(): void;
}

/** A list read page by page over next_cursor, with a "load more" for the rest. */
export function usePagedList<T>(
  load: (cursor: string | undefined) => Promise<Page<T>>,
  deps: readonly unknown[],
): PagedList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const fetchPage = useCallback(load, deps);

  const read = useCallback(
    (from: string | undefined) => {
      const mine = from ? generation.current : ++generation.current;
      setLoading(true);
      setError(undefined);
      fetchPage(from).then(
        (page) => {
          if (mine !== generation.current) return;
          setItems((current) => (from ? [...current, ...page.data] : page.data));
          setCursor(page.next_cursor);
          setLoading(false);
        },
        (failure: unknown) => {
          if (mine !== generation.current) return;
          setError(asApiError(failure));
          setLoading(false);
        },
      );
    },
    [fetchPage],
  );

  useEffect(() => {
    read(undefined);
    return () => {
      generation.current += 1;
    };
  }, [read]);

  return {
    items,
    error,
    loading,
    hasMore: Boolean(cursor),
    loadMore: () => cursor && read(cursor),
    reload: () => read(undefined),
  };
}
