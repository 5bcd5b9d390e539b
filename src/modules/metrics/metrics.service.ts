import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { NotFoundError, secretCheck, UnauthorizedError } from '@app/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { bearerToken } from '../auth/auth-context';
import { MessageEventFeed } from '../messages/message-event-feed';
import { QueueDepth } from './queue-depth';

/** API answers: a few ms to a few seconds. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** An SMTP hand-over: tens of ms on a local relay to a minute on a slow one. */
const DELIVERY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

/**
 * How a webhook delivery attempt ended (SPEC §12), in the words of the
 * deliveries list: a 2xx (`success`), anything else with a retry left
 * (`failure`), anything else with none left (`gave_up`), a 410 that disabled
 * the endpoint (`disabled`).
 */
export type WebhookOutcome = 'success' | 'failure' | 'gave_up' | 'disabled';

/**
 * The Prometheus metrics of SPEC §15, in a registry of this app's own (a test
 * process may hold several apps). Labels hold only bounded values: route
 * patterns, never paths with ids; event types, outcomes, queue names.
 * `GET /metrics` needs METRICS_TOKEN as a bearer token; without one it is off.
 */
@Injectable()
export class MetricsService {
  readonly contentType: string;
  /** Whether METRICS_TOKEN is set; without it nothing is served, and HTTP requests are not measured. */
  readonly enabled: boolean;
  private readonly registry = new Registry();
  private readonly matchesToken: ((token: string | null) => boolean) | null;
  private readonly requests = new Counter({
    name: 'leadpush_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly requestSeconds = new Histogram({
    name: 'leadpush_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly accepted = new Counter({
    name: 'leadpush_messages_accepted_total',
    help: 'Messages stored for delivery (one per recipient), by the door they came through (api, smtp)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  private readonly events = new Counter({
    name: 'leadpush_message_events_total',
    help: 'Message events written, by type (the status entered, or delayed)',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  private readonly deliverySeconds = new Histogram({
    name: 'leadpush_delivery_duration_seconds',
    help: 'Time of a delivery attempt, from the message entering sending to its outcome, by outcome',
    labelNames: ['outcome'] as const,
    buckets: DELIVERY_BUCKETS,
    registers: [this.registry],
  });
  private readonly webhookDeliveries = new Counter({
    name: 'leadpush_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly inboundReports = new Counter({
    name: 'leadpush_inbound_reports_total',
    help: 'Mail processed by the inbound listener (SPEC §13), by kind (dsn, complaint, plain-bounce, other) and outcome (applied, dropped)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(@Inject(APP_CONFIG) config: AppConfig, feed: MessageEventFeed, queueDepth: QueueDepth) {
    this.matchesToken = config.metricsToken ? secretCheck(config.metricsToken) : null;
    this.enabled = this.matchesToken !== null;
    this.contentType = this.registry.contentType;
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'leadpush_queue_jobs',
      help: 'Jobs in each Bull queue, by state; read from Redis when scraped (cached a few seconds)',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { queue, state, count } of await queueDepth.read()) this.set({ queue, state }, count);
      },
    });
    feed.subscribe((type, count) => this.events.inc({ type }, count));
  }

  /** Throws the SPEC §3 answer when the caller may not read the metrics: 404 when off, 401 on a wrong token. */
  authorize(authorization: unknown): void {
    if (!this.matchesToken) throw new NotFoundError('Route');
    if (!this.matchesToken(bearerToken(authorization))) throw new UnauthorizedError();
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  countRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.requestSeconds.observe({ method, route }, seconds);
  }

  countAccepted(source: 'api' | 'smtp', count: number): void {
    this.accepted.inc({ source }, count);
  }

  observeDelivery(outcome: string, seconds: number): void {
    this.deliverySeconds.observe({ outcome }, seconds);
  }

  countWebhookDelivery(outcome: WebhookOutcome): void {
    this.webhookDeliveries.inc({ outcome });
  }

  countInboundReport(kind: string, outcome: 'applied' | 'dropped'): void {
    this.inboundReports.inc({ kind, outcome });
  }
}
