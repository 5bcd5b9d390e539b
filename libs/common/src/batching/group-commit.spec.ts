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

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const commit = new GroupCommit(
      async (items: number[]) => {
        if (items.includes(13)) throw new Error(`bad batch ${items.join(',')}`);
        return items;
      },
      { maxBatch: 10, maxConcurrent: 1 },
    );
    const results = await Promise.allSettled([12, 13, 14].map((n) => commit.submit(n)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 12 },
      { status: 'rejected', reason: new Error('bad batch 13') },
      { status: 'fulfilled', value: 14 },
    ]);
  });
});
