import { setTimeout as sleep } from 'node:timers/promises';
import { PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  it('never runs twice at once: a run due while one is going is skipped', async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    const task = new PeriodicTask(
      async () => {
        runs++;
        most = Math.max(most, ++active);
        await sleep(60);
        active--;
      },
      10,
      () => undefined,
    );
    task.start();
    await sleep(200);
    task.stop();
    await sleep(80);
    expect(most).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    const after = runs;
    await sleep(50);
    expect(runs).toBe(after);
  });

  it('reports a failed run and goes on with the next', async () => {
    const errors: string[] = [];
    let runs = 0;
    const task = new PeriodicTask(
      async () => {
        if (++runs === 1) throw new Error('first run failed');
      },
      1000,
      (error) => errors.push(error.message),
    );
    await task.run();
    await task.run();
    expect(errors).toEqual(['first run failed']);
    expect(runs).toBe(2);
  });
});
