import { withDeadline } from './with-deadline';

/** Work that ends only when its signal aborts, rejecting with the signal's reason. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

describe('withDeadline', () => {
  afterEach(() => jest.useRealTimers());

  it("aborts the work's signal with the parent's reason", async () => {
    const parent = new AbortController();
    const running = withDeadline(parent.signal, 60_000, untilAborted);
    parent.abort('lost');
    await expect(running).rejects.toBe('lost');
  });

  it('aborts it with a TimeoutError once the time is up, not before', async () => {
    jest.useFakeTimers();
    let seen: AbortSignal | undefined;
    const running = withDeadline(new AbortController().signal, 1_000, (signal) => {
      seen = signal;
      return untilAborted(signal);
    });
    const outcome = running.catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(999);
    expect(seen?.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await outcome).toMatchObject({ name: 'TimeoutError' });
  });

  it('starts aborted under a parent that already is', async () => {
    const parent = new AbortController();
    parent.abort('expiring');
    const aborted = await withDeadline(parent.signal, 60_000, async (signal) => [
      signal.aborted,
      signal.reason,
    ]);
    expect(aborted).toEqual([true, 'expiring']);
  });

  it('lets go of the parent and the timer when the work settles', async () => {
    jest.useFakeTimers();
    const parent = new AbortController();
    let seen: AbortSignal | undefined;
    await expect(
      withDeadline(parent.signal, 60_000, async (signal) => {
        seen = signal;
        return 'sent';
      }),
    ).resolves.toBe('sent');
    await expect(
      withDeadline(parent.signal, 60_000, async () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(jest.getTimerCount()).toBe(0);
    parent.abort('lost');
    expect(seen?.aborted).toBe(false);
  });
});
