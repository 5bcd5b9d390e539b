import { Injectable } from '@nestjs/common';
import { DeliverableMessage, MessageLifecycle } from '../messages/message-lifecycle';
import { AttemptRecorder, DeliveryOutcome } from './attempt-recorder';
import { Lease } from './lease';
import { simulatedOutcome } from './test-mode';

/** Delivery of test messages: the outcome is simulated, never handed to SMTP. */
@Injectable()
export class SimulatedDelivery {
  constructor(
    private readonly lifecycle: MessageLifecycle,
    private readonly recorder: AttemptRecorder,
  ) {}

  /**
   * A test message (SPEC §14): the outcome its recipient's local part names,
   * through the same transitions and events as a real delivery, without SMTP
   * and without touching the suppression list.
   */
  async simulate(message: DeliverableMessage, lease: Lease): Promise<DeliveryOutcome> {
    const { attempt } = message;
    const reply = (code: number, text: string) => ({
      attempt,
      smtp_code: code,
      smtp_response: `${code} ${text} (test mode)`,
      test: true,
    });
    const outcome = simulatedOutcome(message.recipient, attempt);
    if (outcome === 'suppressed') {
      const detail = { attempt, reason: 'recipient is on the suppression list (test mode)', test: true };
      return this.recorder.record(message, lease, 'suppressed', () =>
        this.lifecycle.suppress(message, detail),
      );
    }
    if (outcome === 'bounced') {
      const detail = reply(550, '5.1.1 simulated bounce');
      return this.recorder.record(message, lease, 'bounced', () => this.lifecycle.bounce(message, detail));
    }
    if (outcome === 'deferred')
      return this.recorder.defer(message, lease, reply(451, '4.0.0 simulated deferral'));
    const detail = reply(250, 'simulated delivery');
    const sent = await this.recorder.record(message, lease, 'sent', () =>
      this.lifecycle.markSent(message, detail),
    );
    if (sent !== 'sent' || outcome !== 'complained') return sent;
    const complaint = { feedback_type: 'abuse', test: true };
    return this.recorder.record(message, lease, 'complained', () =>
      this.lifecycle.complain({ messageId: message.messageId }, complaint),
    );
  }
}
