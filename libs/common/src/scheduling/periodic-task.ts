/**
 * Runs `work` every `intervalMs` once started, never two runs at once (a run
 * still going when the next is due makes that one a no-op). A failed run is
 * reported to `onError` and the next one goes on. The timer does not keep
 * the process alive.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly work: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: Error) => void,
  ) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One run now, unless one is already going. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.work();
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.running = false;
    }
  }
}
