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
  /**
   * Items of one key are written one at a time, in order: an item waits
   * while an earlier one of its key waits or is being written. For a
   * statement that may touch each key (a row) once, so that each item's
   * answer is its own.
   */
  key?: (item: I) => string;
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
  /** The keys of the items being written. */
  private readonly writing = new Set<string>();

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
        const batch = this.take();
        if (batch.length === 0) return;
        void this.run(batch);
      }
    });
  }

  /**
   * The next batch: up to maxBatch items and maxBatchSize in total, at least
   * one item unless every waiting item's key is being written or taken.
   */
  private take(): Waiting<I, R>[] {
    const { maxBatch, maxBatchSize = Infinity, key } = this.options;
    const batch: Waiting<I, R>[] = [];
    const left: Waiting<I, R>[] = [];
    const keys = new Set<string>();
    let size = 0;
    let next = 0;
    for (; next < this.waiting.length && batch.length < maxBatch; next++) {
      const w = this.waiting[next];
      if (batch.length > 0 && size + w.size > maxBatchSize) break;
      const k = key?.(w.item);
      if (k !== undefined && (keys.has(k) || this.writing.has(k))) {
        keys.add(k);
        left.push(w);
        continue;
      }
      if (k !== undefined) keys.add(k);
      batch.push(w);
      size += w.size;
    }
    this.waitingSize -= size;
    this.waiting.splice(0, next, ...left);
    if (key) batch.forEach((w) => this.writing.add(key(w.item)));
    return batch;
  }

  private async run(batch: Waiting<I, R>[]): Promise<void> {
    this.running++;
    try {
      await this.commit(batch);
    } finally {
      const { key } = this.options;
      if (key) batch.forEach((w) => this.writing.delete(key(w.item)));
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
