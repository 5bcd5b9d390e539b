export interface GroupCommitOptions<I> {
  /** Most items one flush takes. */
  maxBatch: number;
  /** Most flushes running at the same time. */
  maxConcurrent: number;
  /** An item's size (e.g. the characters of its content) for the size bounds; 0 when not given. */
  size?: (item: I) => number;
  /** Most total size one flush takes; a larger item goes alone. */
  maxBatchSize?: number;
  /** Most items waiting for a flush: submit() refuses more with `full()`. */
  maxWaiting?: number;
  /** Most total size waiting for a flush: submit() refuses more with `full()` (unless nothing waits). */
  maxWaitingSize?: number;
  /** The error a refused submit() rejects with. */
  full?: () => Error;
  /**
   * Whether a failed batch may be one item's fault: such a batch is split in
   * halves, and halves again, until the bad items are alone, so they fail and
   * the others are written. Any other failure fails every item of the batch.
   * Default: every failure.
   */
  isolate?: (error: unknown) => boolean;
}

interface Waiting<I, R> {
  item: I;
  size: number;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while earlier flushes run are written together
 * by the next flush, so N concurrent callers cost one round trip instead of N.
 * No timer and no added latency: an idle committer flushes on the next turn of
 * the event loop. `flush` answers one result per item, in order. What waits is
 * bounded by count and size, and so is each flush. A batch that fails because
 * of one item (see `isolate`) is bisected: one bad item in 64 costs about a
 * dozen more flushes, not 64.
 */
export class GroupCommit<I, R> {
  private readonly waiting: Waiting<I, R>[] = [];
  private waitingSize = 0;
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly flush: (items: I[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions<I>,
  ) {}

  submit(item: I): Promise<R> {
    const size = this.options.size?.(item) ?? 0;
    const { maxWaiting = Infinity, maxWaitingSize = Infinity } = this.options;
    if (
      this.waiting.length >= maxWaiting ||
      (this.waiting.length > 0 && this.waitingSize + size > maxWaitingSize)
    ) {
      return Promise.reject(this.options.full?.() ?? new Error('Too many items waiting to be written'));
    }
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, size, resolve, reject });
      this.waitingSize += size;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.maxConcurrent || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.running < this.options.maxConcurrent && this.waiting.length > 0) {
        void this.run(this.take());
      }
    });
  }

  /** The next batch: up to maxBatch items and maxBatchSize in total, at least one item. */
  private take(): Waiting<I, R>[] {
    const { maxBatch, maxBatchSize = Infinity } = this.options;
    let count = 0;
    let size = 0;
    while (
      count < this.waiting.length &&
      count < maxBatch &&
      (count === 0 || size + this.waiting[count].size <= maxBatchSize)
    ) {
      size += this.waiting[count++].size;
    }
    this.waitingSize -= size;
    return this.waiting.splice(0, count);
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
      if (batch.length === 1 || !(this.options.isolate?.(error) ?? true)) {
        return batch.forEach((w) => w.reject(error));
      }
      const half = Math.ceil(batch.length / 2);
      await this.commit(batch.slice(0, half));
      await this.commit(batch.slice(half));
    }
  }
}
