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

  it('gives a key set again its new TTL and a place as the newest', () => {
    jest.useFakeTimers({ now: 1_000 });
    const cache = new TtlCache<number, string>(100, 3);
    cache.set(1, 'first');
    cache.set(2, 'two');
    jest.setSystemTime(1_050);
    cache.set(1, 'again');
    cache.set(3, 'three');
    cache.set(4, 'four');
    expect([1, 2, 3, 4].map((n) => cache.get(n))).toEqual(['again', undefined, 'three', 'four']);
    jest.setSystemTime(1_149);
    expect(cache.get(1)).toBe('again');
  });

  it('when full, drops the expired entries before any live one', () => {
    jest.useFakeTimers({ now: 1_000 });
    const cache = new TtlCache<number, number>(100, 3);
    cache.set(1, 1);
    cache.set(2, 2);
    jest.setSystemTime(1_060);
    cache.set(3, 3);
    jest.setSystemTime(1_100);
    cache.set(4, 4);
    expect([1, 2, 3, 4].map((n) => cache.get(n))).toEqual([undefined, undefined, 3, 4]);
    cache.set(5, 5);
    expect([3, 4, 5].map((n) => cache.get(n))).toEqual([3, 4, 5]);
  });
});
