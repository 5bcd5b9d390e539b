import { TtlCache } from './ttl-cache';

/**
 * Loads shared by everyone who asks for the same key while it is fresh: a
 * caller that asks while a load runs gets the same promise, so N concurrent
 * callers cost one load. A load that fails is forgotten at once (the next
 * caller loads again), and so is a result `keep` refuses (one too large to
 * hold for the TTL, say) once it has been handed to those who waited for it.
 */
export class SharedLoads<K, V> {
  private readonly cache: TtlCache<K, Promise<V>>;

  constructor(
    ttlMs: number,
    maxEntries: number,
    private readonly keep: (value: V) => boolean = () => true,
  ) {
    this.cache = new TtlCache(ttlMs, maxEntries);
  }

  get(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const loading = new Promise<V>((resolve) => resolve(load()));
    this.cache.set(key, loading);
    loading.then(
      (value) => this.keep(value) || this.forget(key, loading),
      () => this.forget(key, loading),
    );
    return loading;
  }

  /** Forgets the key's value (or load in flight): the next caller loads again. */
  delete(key: K): void {
    this.cache.delete(key);
  }

  private forget(key: K, loading: Promise<V>): void {
    if (this.cache.get(key) === loading) this.cache.delete(key);
  }
}
