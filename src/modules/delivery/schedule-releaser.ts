import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { PeriodicTask } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { MessageLifecycle } from '../messages/message-lifecycle';
import { DeliveryProducer } from './delivery.producer';

const RELEASE_BATCH = 1000;

/**
 * The worker role's clock for scheduled sends (SPEC §7, §9): every
 * RELEASE_INTERVAL_MS it moves the scheduled messages whose time has come to
 * `pending` and queues them. The schedule lives in PostgreSQL, never in a
 * delayed job, so it survives restarts of the app and of Redis; a message
 * released while Redis is down stays `pending` until the sweeper queues it.
 */
@Injectable()
export class ScheduleReleaser implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ScheduleReleaser.name);
  private readonly task: PeriodicTask;

  constructor(
    private readonly lifecycle: MessageLifecycle,
    private readonly producer: DeliveryProducer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.task = new PeriodicTask(
      () => this.release(),
      config.delivery.releaseIntervalMs,
      (error) => this.logger.warn(`Releasing scheduled messages failed: ${error.message}`),
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  beforeApplicationShutdown(): void {
    this.task.stop();
  }

  /** Releases and queues due messages, a batch at a time; one process releases at a time, the others skip their turn. */
  private async release(): Promise<void> {
    for (;;) {
      const released = await this.lifecycle.releaseDue(RELEASE_BATCH);
      if (!released || released.length === 0) return;
      await this.producer.enqueue(released.map((messageId) => ({ messageId })));
      if (released.length < RELEASE_BATCH) return;
    }
  }
}
