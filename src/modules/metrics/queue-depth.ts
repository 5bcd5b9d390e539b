import { getQueueToken } from '@nestjs/bull';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bull';
import { QUEUES } from '../../queues';

export interface QueueCount {
  queue: string;
  state: string;
  count: number;
}

/** Scrapes within this long of the last read share it: several scrapers cost Redis one read. */
const CACHE_MS = 5_000;
/** Longest a scrape waits for Redis; past it (Redis down) the queue series are left out. */
const READ_TIMEOUT_MS = 1_000;

/** How many jobs each queue of QUEUES holds in each state, read from Bull at scrape time. */
@Injectable()
export class QueueDepth implements OnModuleInit {
  private readonly logger = new Logger(QueueDepth.name);
  private queues: { name: string; queue: Queue }[] = [];
  private last: { at: number; counts: Promise<QueueCount[]> } | null = null;

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    this.queues = QUEUES.map((name) => ({
      name,
      queue: this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }),
    }));
  }

  read(): Promise<QueueCount[]> {
    if (!this.last || Date.now() - this.last.at >= CACHE_MS) {
      this.last = { at: Date.now(), counts: this.fetch() };
    }
    return this.last.counts;
  }

  private async fetch(): Promise<QueueCount[]> {
    try {
      const counts = await Promise.all(
        this.queues.map(async ({ name, queue }) => {
          const byState = await withTimeout(queue.getJobCounts(), READ_TIMEOUT_MS);
          return (Object.entries(byState) as [string, number][]).map(([state, count]) => ({
            queue: name,
            state,
            count,
          }));
        }),
      );
      return counts.flat();
    } catch (error) {
      this.logger.warn(`Reading the queue sizes failed: ${(error as Error).message}`);
      return [];
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
