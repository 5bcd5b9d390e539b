import { Inject, Injectable, Logger } from '@nestjs/common';
import { isUuid } from '@app/common';
import { AppConfig } from '../../config/app-config';
import type { SqlRunner } from '../../database/sql';
import { APP_CONFIG } from '../../config/config.module';
import { messageOfReturnPath } from '../delivery/envelope';
import { MessageEvent, MessageLifecycle } from '../messages/message-lifecycle';
import { MessagesRepository, ReportedMessageRow } from '../messages/messages.repository';
import { MetricsService } from '../metrics/metrics.service';
import { InboundReportsRepository, ReportResult, StoredReport } from './inbound-reports.repository';
import { outcomeFor } from './report-outcome';
import { parseReport, type Report } from './report-parser';

/** One message's part in a report's result. */
interface Applied {
  message_id: string;
  event?: string;
  dropped?: string;
}

/** Addresses of the form the text of a plain-text bounce may quote our return path in. */
const ADDRESS_RE = /[a-z0-9._+-]{1,64}@[a-z0-9.-]{1,253}/gi;

/**
 * Processes a stored report (SPEC §13): reads it (report-parser), finds the
 * messages it is about — each RCPT TO that is a return path Leadpush signed;
 * for a complaint, the return path or our `Message-ID` in its original — and
 * applies the outcome (report-outcome) through the message lifecycle, scoped
 * to the message's own workspace. Everything else is dropped, with the
 * reason kept on the report's row and logged at debug.
 */
@Injectable()
export class ReportProcessor {
  private readonly logger = new Logger(ReportProcessor.name);

  constructor(
    private readonly reports: InboundReportsRepository,
    private readonly messages: MessagesRepository,
    private readonly lifecycle: MessageLifecycle,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Processes the report once; false when it was processed already (or is
   * being processed elsewhere). Counted by kind and outcome once recorded
   * (`leadpush_inbound_reports_total`).
   */
  async process(reportId: string): Promise<boolean> {
    let result: ReportResult | undefined;
    const done = await this.reports.processOnce(reportId, async (stored, tx) => {
      result = await this.apply(stored, tx);
      this.logger.debug({ reportId, ...result }, `Inbound report ${reportId} ${result.outcome}`);
      return result;
    });
    if (done && result) this.metrics.countInboundReport(String(result.detail.kind), result.outcome);
    return done;
  }

  /** Applies the report in the report's own transaction (`tx`): its outcome and its effects commit together. */
  private async apply(stored: StoredReport, tx: SqlRunner): Promise<ReportResult> {
    const report = await parseReport(stored.raw, stored.mailFrom);
    const targets = await this.targetsOf(report, stored);
    if ('dropped' in targets)
      return { outcome: 'dropped', detail: { kind: report.kind, reason: targets.dropped } };
    const applied: Applied[] = [];
    for (const message of targets.messages) applied.push(await this.applyTo(report, message, tx));
    const outcome = applied.some((a) => a.event) ? 'applied' : 'dropped';
    return { outcome, detail: { kind: report.kind, messages: applied } };
  }

  private async applyTo(report: Report, message: ReportedMessageRow, tx: SqlRunner): Promise<Applied> {
    const outcome = outcomeFor(report, message);
    if (outcome.kind === 'drop') return { message_id: message.id, dropped: outcome.reason };
    const target = { messageId: message.id, workspaceId: message.workspaceId };
    const event: MessageEvent | null =
      outcome.kind === 'bounce'
        ? await this.lifecycle.reportBounce(target, outcome.detail, { suppress: outcome.suppress }, tx)
        : outcome.kind === 'complaint'
          ? await this.lifecycle.complain(target, outcome.detail, { suppress: outcome.suppress }, tx)
          : await this.lifecycle.recordDelay(target, outcome.detail, tx);
    return event
      ? { message_id: message.id, event: event.type }
      : { message_id: message.id, dropped: `the message is in no status ${outcome.kind} applies to` };
  }

  /**
   * The messages a report is about. A DSN: the messages whose signed return
   * path it was sent to. A plain-text bounce: those, and the signed return
   * paths its text quotes. A complaint: the message its original names (by
   * return path, Original-Mail-From or our Message-ID), which must agree
   * with the return path it was sent to, if any.
   */
  private async targetsOf(
    report: Report,
    stored: StoredReport,
  ): Promise<{ messages: ReportedMessageRow[] } | { dropped: string }> {
    if (report.kind === 'other') return { dropped: report.why };
    const addressed = this.signed(stored.rcptTo);
    let ids = addressed;
    if (report.kind === 'plain-bounce') {
      ids = new Set([...addressed, ...this.signed(report.text.match(ADDRESS_RE) ?? [])]);
    }
    if (report.kind === 'complaint') {
      const named = this.signed([report.originalMailFrom, report.original?.returnPath]);
      const byMessageId = named.size === 0 ? await this.byMessageId(report.original?.messageId) : null;
      if (byMessageId) named.add(byMessageId.id);
      if (named.size > 1) return { dropped: 'its original names more than one message' };
      if (named.size === 1 && addressed.size > 0 && !addressed.has([...named][0])) {
        return { dropped: 'its original is not the message it was sent about' };
      }
      if (named.size === 1) ids = named;
    }
    if (ids.size === 0) return { dropped: 'no signed return path or Message-ID of ours' };
    const found = await Promise.all([...ids].map((id) => this.messages.reportedMessage(id)));
    const messages = found.filter((m): m is ReportedMessageRow => m !== null);
    return messages.length > 0 ? { messages } : { dropped: 'no such message' };
  }

  /** The message ids of the addresses that are return paths Leadpush signed; every other address is ignored. */
  private signed(addresses: (string | null | undefined)[]): Set<string> {
    const { domain, signingKey } = this.config.bounce;
    const ids = new Set<string>();
    if (!domain || !signingKey) return ids;
    for (const address of addresses) {
      const id = address ? messageOfReturnPath(address, domain, signingKey) : null;
      if (id) ids.add(id);
    }
    return ids;
  }

  /** The message of a `<uuid@sender-domain>` Message-ID Leadpush made: its uuid, sent from that domain. */
  private async byMessageId(messageId: string | null | undefined): Promise<ReportedMessageRow | null> {
    const match = messageId ? /^<([^@<>]+)@([^@<>]+)>$/.exec(messageId) : null;
    if (!match || !isUuid(match[1].toLowerCase())) return null;
    const message = await this.messages.reportedMessage(match[1].toLowerCase());
    const domain = message?.fromEmail.slice(message.fromEmail.lastIndexOf('@') + 1).toLowerCase();
    return message && domain === match[2].toLowerCase() ? message : null;
  }
}
