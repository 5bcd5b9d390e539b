import { GroupCommit } from './group-commit';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('writes items submitted together in one flush, answering each in order', async () => {
    const flushes: number[][] = [];
    const commit = new GroupCommit(
      async (items: number[]) => {
        flushes.push(items);
        return items.map((n) => n * 10);
      },
      { maxBatch: 100, maxConcurrent: 1 },
    );
    const results = await Promise.all([1, 2, 3].map((n) => commit.submit(n)));
    expect(results).toEqual([10, 20, 30]);
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it('gathers what arrives during a flush into the next one, and respects maxBatch', async () => {
    const flushes: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const commit = new GroupCommit(
      async (items: number[]) => {
        flushes.push(items);
        if (flushes.length === 1) await gate;
        return items;
      },
      { maxBatch: 2, maxConcurrent: 1 },
    );
    const first = commit.submit(1);
    await tick();
    const later = [2, 3, 4, 5].map((n) => commit.submit(n));
    await tick();
    expect(flushes).toEqual([[1]]);
    release();
    await Promise.all([first, ...later]);
    expect(flushes).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('runs up to maxConcurrent flushes at once', async () => {
    let active = 0;
    let peak = 0;
    const commit = new GroupCommit(
      async (items: number[]) => {
        active++;
        peak = Math.max(peak, active);
        await tick();
        active--;
        return items;
      },
      { maxBatch: 1, maxConcurrent: 3 },
    );
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => commit.submit(n)));
    expect(peak).toBe(3);
  });

  it('bisects a batch that one item breaks, so only the bad item fails, in few flushes', async () => {
    const flushes: number[][] = [];
    const commit = new GroupCommit(
      async (items: number[]) => {
        flushes.push(items);
        if (items.includes(13)) throw new Error(`bad batch ${items.join(',')}`);
        return items;
      },
      { maxBatch: 64, maxConcurrent: 1 },
    );
    const items = Array.from({ length: 64 }, (_, i) => i);
    const results = await Promise.allSettled(items.map((n) => commit.submit(n)));
    expect(results[13]).toEqual({ status: 'rejected', reason: new Error('bad batch 13') });
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual(
      items.filter((n) => n !== 13),
    );
    expect(flushes.length).toBeLessThanOrEqual(1 + 2 * 6);
  });

  it('fails the whole batch, without retries, on an error that is not one item’s fault', async () => {
    const flushes: number[][] = [];
    const down = new Error('connection lost');
    const commit = new GroupCommit(
      async (items: number[]) => {
        flushes.push(items);
        throw down;
      },
      { maxBatch: 10, maxConcurrent: 1, isolate: (error) => error !== down },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => commit.submit(n)));
    expect(results).toEqual(Array(3).fill({ status: 'rejected', reason: down }));
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it('caps a flush by total size; an item larger than the cap goes alone', async () => {
    const flushes: number[][] = [];
    const commit = new GroupCommit(
      async (items: number[]) => {
        flushes.push(items);
        return items;
      },
      { maxBatch: 100, maxConcurrent: 1, size: (n: number) => n, maxBatchSize: 10 },
    );
    await Promise.all([4, 5, 3, 20, 1].map((n) => commit.submit(n)));
    expect(flushes).toEqual([[4, 5], [3], [20], [1]]);
  });

  it('writes the items of one key one at a time, in order, even with flushes running at once', async () => {
    const flushes: string[][] = [];
    const commit = new GroupCommit(
      async (items: string[]) => {
        flushes.push(items);
        await tick();
        return items;
      },
      { maxBatch: 100, maxConcurrent: 2, key: (item: string) => item[0] },
    );
    const results = await Promise.all(
      ['a1', 'b1', 'a2', 'c1', 'a3', 'b2'].map((item) => commit.submit(item)),
    );
    expect(results).toEqual(['a1', 'b1', 'a2', 'c1', 'a3', 'b2']);
    expect(flushes).toEqual([['a1', 'b1', 'c1'], ['a2', 'b2'], ['a3']]);
  });

  /** A committer whose flushes wait for release(), with one flush at a time of one item. */
  function held(options: { maxWaiting?: number; maxWaitingSize?: number }) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const full = new Error('full');
    const commit = new GroupCommit(async (items: number[]) => gate.then(() => items), {
      maxBatch: 1,
      maxConcurrent: 1,
      size: (n: number) => n,
      full: () => full,
      ...options,
    });
    return { commit, release, full };
  }

  it('refuses an item beyond maxWaiting with full(), and takes items again once drained', async () => {
    const { commit, release, full } = held({ maxWaiting: 2 });
    const inFlight = commit.submit(1);
    await tick();
    const waiting = [commit.submit(2), commit.submit(3)];
    await expect(commit.submit(4)).rejects.toBe(full);
    release();
    expect(await Promise.all([inFlight, ...waiting])).toEqual([1, 2, 3]);
    expect(await commit.submit(5)).toBe(5);
  });

  it('refuses an item that would take the waiting size past maxWaitingSize, unless nothing waits', async () => {
    const { commit, release, full } = held({ maxWaitingSize: 10 });
    const inFlight = commit.submit(100);
    await tick();
    const big = commit.submit(12);
    await expect(commit.submit(1)).rejects.toBe(full);
    release();
    expect(await Promise.all([inFlight, big])).toEqual([100, 12]);
    expect(await Promise.all([commit.submit(6), commit.submit(4)])).toEqual([6, 4]);
  });
});
