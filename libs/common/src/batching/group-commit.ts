export interface GroupCommitOptions {
  /** Most items one flush takes. */
  maxBatch: number;
  /** Most flushes running at the same time. */
  maxConcurrent: number;
}

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while earlier flushes run are written together
 * by the next flush, so N concurrent callers cost one round trip instead of N.
 * No timer and no added latency: an idle committer flushes on the next turn of
 * the event loop. `flush` answers one result per item, in order. When a batch
 * fails, each of its items is retried alone, so one bad item fails only itself.
 */
export class GroupCommit<I, R> {
  private readonly waiting: Waiting<I, R>[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly flush: (items: I[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.maxConcurrent || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.running < this.options.maxConcurrent && this.waiting.length > 0) {
        void this.run(this.waiting.splice(0, this.options.maxBatch));
      }
    });
  }

  private async run(batch: Waiting<I, R>[]): Promise<void> {
    this.running++;
    try {
      await this.commit(batch);
    } finally {
      this.running--;
      this.schedule();
    }
  }

  private async commit(batch: Waiting<I, R>[]): Promise<void> {
    try {
      const results = await this.flush(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      for (const waiting of batch) await this.commit([waiting]);
    }
  }
}
