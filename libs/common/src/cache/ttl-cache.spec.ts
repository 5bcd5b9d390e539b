import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  afterEach(() => jest.useRealTimers());

  it('answers a value until its TTL passes', () => {
    jest.useFakeTimers({ now: 1_000 });
    const cache = new TtlCache<string, number>(100);
    cache.set('a', 1);
    jest.setSystemTime(1_099);
    expect(cache.get('a')).toBe(1);
    jest.setSystemTime(1_100);
    expect(cache.get('a')).toBeUndefined();
  });

  it('caches nothing with a TTL of 0', () => {
    const cache = new TtlCache<string, number>(0);
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('deletes by key and by value', () => {
    const cache = new TtlCache<string, { owner: string }>(1000);
    cache.set('a', { owner: 'x' });
    cache.set('b', { owner: 'y' });
    cache.set('c', { owner: 'x' });
    cache.deleteWhere((v) => v.owner === 'x');
    cache.delete('b');
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, undefined, undefined]);
  });

  it('stays within maxEntries, dropping the oldest', () => {
    const cache = new TtlCache<number, number>(1000, 3);
    for (const n of [1, 2, 3, 4]) cache.set(n, n);
    expect([1, 2, 3, 4].map((n) => cache.get(n))).toEqual([undefined, 2, 3, 4]);
  });
});
