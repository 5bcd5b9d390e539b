import { Global, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { QueueDepth } from './queue-depth';

/**
 * Prometheus metrics (SPEC §15) on every role: the registry and its counters
 * (MetricsService, which other modules call to count what they do), the
 * queue sizes read at scrape time, `GET /metrics`, and, when METRICS_TOKEN is
 * set, the measurement of every HTTP request. Global, so its middleware runs
 * before every other one and sees the requests they refuse.
 */
@Global()
@Module({
  imports: [MessagesModule],
  controllers: [MetricsController],
  providers: [MetricsService, QueueDepth],
  exports: [MetricsService],
})
export class MetricsModule implements NestModule {
  constructor(private readonly metrics: MetricsService) {}

  configure(consumer: MiddlewareConsumer): void {
    if (!this.metrics.enabled) return;
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
  }
}
