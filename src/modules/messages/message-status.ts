/**
 * Every status a message can be in (SPEC §8); each one entered is recorded as
 * an event of that type. messages.status is checked against the same list.
 */
export const MESSAGE_STATUSES = [
  'scheduled',
  'pending',
  'sending',
  'sent',
  'deferred',
  'bounced',
  'failed',
  'suppressed',
  'canceled',
  'complained',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Event types: the statuses entered, and `delayed` (a delay report, no status change). */
export const MESSAGE_EVENT_TYPES = [...MESSAGE_STATUSES, 'delayed'] as const;
export type MessageEventType = (typeof MESSAGE_EVENT_TYPES)[number];

export type RecipientType = 'to' | 'bcc';

interface Transition {
  /** The statuses the message may be in for the transition to apply; in any other, it does nothing. */
  from: readonly MessageStatus[];
  /** The status entered, or null for an event that changes no status. */
  to: MessageStatus | null;
}

/**
 * The message lifecycle as data: every named transition, the statuses it
 * starts from and the status it enters. MessageLifecycle guards each UPDATE
 * with `from`, so this table is what the database enforces.
 * - `claim` takes a `deferred` message only once it is due, and a `sending`
 *   one only once its lease has expired (its worker died).
 * - `bounce` ends an attempt the relay refused; `reportBounce`, `complain`
 *   and `recordDelay` are the reports that arrive after the relay said 250
 *   (SPEC §13). A report may also find a message `deferred`: the relay's 250
 *   was lost (a timeout after DATA) and the message waits for a retry.
 * - `retry` releases mail held back by a suppression or given up on (SPEC §9).
 * - `reschedule` moves a `scheduled` message's time (SPEC §9): it enters
 *   `scheduled` again, so it writes a `scheduled` event.
 */
export const TRANSITIONS = {
  release: { from: ['scheduled'], to: 'pending' },
  reschedule: { from: ['scheduled'], to: 'scheduled' },
  cancel: { from: ['scheduled'], to: 'canceled' },
  claim: { from: ['pending', 'deferred', 'sending'], to: 'sending' },
  markSent: { from: ['sending'], to: 'sent' },
  defer: { from: ['sending'], to: 'deferred' },
  bounce: { from: ['sending'], to: 'bounced' },
  reportBounce: { from: ['sent', 'deferred'], to: 'bounced' },
  fail: { from: ['sending'], to: 'failed' },
  suppress: { from: ['sending'], to: 'suppressed' },
  complain: { from: ['sent'], to: 'complained' },
  recordDelay: { from: ['sent'], to: null },
  retry: { from: ['suppressed', 'failed'], to: 'pending' },
} as const satisfies Record<string, Transition>;
export type TransitionName = keyof typeof TRANSITIONS;

/** Whether some chain of transitions leads a message in `status` to another delivery attempt (`claim`). */
function canBeDeliveredAgain(status: MessageStatus): boolean {
  const seen = new Set<MessageStatus>([status]);
  const queue: MessageStatus[] = [status];
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    for (const { from, to } of Object.values<Transition>(TRANSITIONS)) {
      if (!from.includes(at) || to === null) continue;
      if (to === 'sending') return true;
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return false;
}

/**
 * The statuses no transition leads out of into another delivery (`sent`,
 * `bounced`, `complained`, `canceled`): a message in one needs its content no
 * more. `failed` and `suppressed` are not among them (`retry`).
 */
export const SETTLED_STATUSES: readonly MessageStatus[] = MESSAGE_STATUSES.filter(
  (status) => !canBeDeliveredAgain(status),
);
