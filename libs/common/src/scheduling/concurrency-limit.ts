/** Which line a task waits in when every slot is taken: `ahead` is served before `behind`. */
export type Line = 'ahead' | 'behind';

/**
 * Runs tasks at most `limit` at a time; the others wait for a slot in one of
 * two lines, `ahead` served before `behind`, each first come first served.
 * Two kinds of work can share one limit this way, one of them (`ahead`)
 * never waiting behind the other's backlog, only for the next free slot.
 */
export class ConcurrencyLimit {
  private active = 0;
  private readonly lines: Record<Line, (() => void)[]> = { ahead: [], behind: [] };

  constructor(private readonly limit: number) {}

  /**
   * Runs `task` once a slot is free, answering what it answers. With a slot
   * free it starts at once, before run returns: the task's code up to its
   * first await runs synchronously, as it would called directly.
   */
  async run<T>(task: () => Promise<T>, line: Line = 'behind'): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.lines[line].push(resolve));
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Hands the slot to the next waiting task, or frees it. */
  private release(): void {
    const next = this.lines.ahead.shift() ?? this.lines.behind.shift();
    if (next) next();
    else this.active--;
  }
}
