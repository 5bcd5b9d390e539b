import { Logger } from '@nestjs/common';
import Queue from 'bull';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueueWriter } from '../src/redis/queue-writer';
import { newQueuePrefix } from './support/app';
import { RedisServerHandle, startRedisServer } from './support/redis-server';

/** Keeps what it is told to warn about, for assertions, instead of printing it. */
class KeptWarnings extends Logger {
  readonly warnings: string[] = [];
  override warn(message: string): void {
    this.warnings.push(message);
  }
}

/** QueueWriter on a Redis of its own that stops answering: what an unawaited add leaves to settled(). */
describe('QueueWriter', () => {
  let redis: RedisServerHandle;
  let queue: Queue.Queue<{ n: number }>;
  let writer: QueueWriter<{ n: number }>;

  beforeAll(async () => {
    redis = await startRedisServer();
    queue = new Queue('writer', redis.url, { prefix: newQueuePrefix() });
    await queue.client.ping();
    writer = new QueueWriter(queue, 'job', 30_000, new KeptWarnings());
  });
  afterAll(async () => {
    await queue.close();
    await redis.close();
  });

  it('settles at once with nothing in flight', async () => {
    await expect(writer.settled()).resolves.toBeUndefined();
  });

  it('settles only once every add begun has answered', async () => {
    redis.pause();
    let adding: Promise<boolean>[];
    let settled = false;
    let settling: Promise<void>;
    try {
      adding = [
        writer.add([{ data: { n: 1 }, jobId: 'one' }]),
        writer.add([{ data: { n: 2 }, jobId: 'two' }]),
      ];
      settling = writer.settled().then(() => {
        settled = true;
      });
      await sleep(300);
      expect(settled).toBe(false);
    } finally {
      redis.resume();
    }
    await settling;
    expect(await Promise.all(adding)).toEqual([true, true]);
    expect((await queue.getJob('one'))?.data).toEqual({ n: 1 });
    expect((await queue.getJob('two'))?.data).toEqual({ n: 2 });
    await expect(writer.settled()).resolves.toBeUndefined();
  });

  it('answers false, without rejecting, when Redis does not answer within its timeout', async () => {
    const logger = new KeptWarnings();
    const impatient = new QueueWriter(queue, 'job', 100, logger);
    redis.pause();
    let answered: boolean;
    try {
      answered = await impatient.add([{ data: { n: 3 }, jobId: 'three' }]);
      await impatient.settled();
    } finally {
      redis.resume();
    }
    expect(answered).toBe(false);
    expect(logger.warnings).toEqual(['Queuing 1 job(s) timed out; the sweeper will queue them']);
  });
});
