import { setTimeout as sleep } from 'node:timers/promises';
import { ConcurrencyLimit } from './concurrency-limit';

/** A task that records when it starts and ends only when `release()` is called. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    task: async () => {
      log.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

describe('ConcurrencyLimit', () => {
  it('never runs more than its limit at once, and starts a task at once when a slot is free', async () => {
    const limit = new ConcurrencyLimit(2);
    const started: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((name) => gate(started, name));
    const results = tasks.map((t) => limit.run(t.task));
    // Synchronously: the first two started before run returned.
    expect(started).toEqual(['a', 'b']);
    await sleep(10);
    expect(started).toEqual(['a', 'b']);
    tasks[0].release();
    await sleep(0);
    expect(started).toEqual(['a', 'b', 'c']);
    tasks.slice(1).forEach((t) => t.release());
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    const after = gate(started, 'e');
    void limit.run(after.task);
    expect(started.at(-1)).toBe('e');
    after.release();
  });

  it('gives a freed slot to the `ahead` line before the `behind` line, each in arrival order', async () => {
    const limit = new ConcurrencyLimit(1);
    const started: string[] = [];
    const first = gate(started, 'running');
    const running = limit.run(first.task);
    const waiting = [
      limit.run(async () => void started.push('behind 1'), 'behind'),
      limit.run(async () => void started.push('ahead 1'), 'ahead'),
      limit.run(async () => void started.push('behind 2')),
      limit.run(async () => void started.push('ahead 2'), 'ahead'),
    ];
    first.release();
    await Promise.all([running, ...waiting]);
    expect(started).toEqual(['running', 'ahead 1', 'ahead 2', 'behind 1', 'behind 2']);
  });

  it('frees the slot of a task that fails, and answers its error', async () => {
    const limit = new ConcurrencyLimit(1);
    await expect(limit.run(async () => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
    const started: string[] = [];
    void limit.run(gate(started, 'next').task);
    expect(started).toEqual(['next']);
  });
});
