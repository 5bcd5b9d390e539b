import { settleWithin } from './settle-within';

describe('settleWithin', () => {
  afterEach(() => jest.useRealTimers());

  it('ends when the work settles, resolved or rejected, without waiting for the limit', async () => {
    jest.useFakeTimers();
    await settleWithin(Promise.resolve('done'), 10_000);
    await settleWithin(Promise.reject(new Error('failed')), 10_000);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('ends at the time limit when the work never settles', async () => {
    jest.useFakeTimers();
    let ended = false;
    const waiting = settleWithin(new Promise(() => undefined), 1_000).then(() => (ended = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(ended).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await waiting;
    expect(ended).toBe(true);
  });
});
