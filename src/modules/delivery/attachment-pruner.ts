import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PeriodicTask } from '@app/common';
import { AttachmentsRepository } from '../messages/attachments.repository';

const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The worker role drops, every hour, the attachment bytes no message needs
 * any more (AttachmentsRepository): those of requests whose last message was
 * canceled, or failed or suppressed too long ago to be retried, and any a
 * delivery could not drop as it settled.
 */
@Injectable()
export class AttachmentPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AttachmentPruner.name);
  private readonly task: PeriodicTask;

  constructor(attachments: AttachmentsRepository) {
    this.task = new PeriodicTask(
      () => attachments.prune(),
      PRUNE_INTERVAL_MS,
      (error) => this.logger.warn(`Pruning attachments failed: ${error.message}`),
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): void {
    this.task.stop();
  }
}
