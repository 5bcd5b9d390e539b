import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { OnApplicationShutdown } from '@nestjs/common';
import { Piscina } from 'piscina';
import { asBuffer, compose, CompositionTask } from './composition';
import type { Composition } from './mime-composer';

/** The compiled thread module beside this one (there is none when the TypeScript sources run, under jest). */
export const COMPOSITION_THREAD_FILE = join(__dirname, 'composition.thread.js');

/** Threads at most: composing is the worker's largest CPU cost, but the rest of the worker, PostgreSQL and Redis need cores too. */
const MAX_THREADS = 2;
const YOUNG_GENERATION_MB = 16;

/**
 * Composes and DKIM-signs messages off the event loop, in worker threads:
 * RSA signing and MIME building are the delivery worker's largest CPU cost
 * besides I/O, and its one event loop also claims, sends and records every
 * message. Threads start on the first composition (an API process never
 * composes), one per core beyond the first, at most MAX_THREADS. Without
 * the compiled thread module the same function runs on the event loop.
 */
export class CompositionPool implements OnApplicationShutdown {
  private pool: Piscina | null = null;

  constructor(private threadFile: string | null = COMPOSITION_THREAD_FILE) {}

  async compose(task: CompositionTask): Promise<Composition> {
    const pool = this.threads();
    if (!pool) return compose(task);
    const { bytes, addsMessageId } = (await pool.run(task)) as Composition;
    return { bytes: asBuffer(bytes), addsMessageId };
  }

  /** Whether compositions run in threads (starting them if they have not started). */
  isThreaded(): boolean {
    return this.threads() !== null;
  }

  /** After the workers stopped taking jobs (DeliveryWorker.beforeApplicationShutdown). */
  async onApplicationShutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    this.threadFile = null;
    await pool?.destroy();
  }

  private threads(): Piscina | null {
    if (!this.pool && this.threadFile && existsSync(this.threadFile)) {
      const threads = Math.max(1, Math.min(MAX_THREADS, availableParallelism() - 1));
      this.pool = new Piscina({
        filename: this.threadFile,
        minThreads: threads,
        maxThreads: threads,
        // A thread's young generation as the main thread's (start:prod's --max-semi-space-size=8): it counts in the RSS.
        resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      });
    }
    return this.pool;
  }
}
