import {
  MESSAGE_STATUSES,
  type MessageStatus,
  SETTLED_STATUSES,
  TRANSITIONS,
  type TransitionName,
} from './message-status';

const names = Object.keys(TRANSITIONS) as TransitionName[];
const from = (name: TransitionName): readonly MessageStatus[] => TRANSITIONS[name].from;
const entered = (name: TransitionName): MessageStatus | null => TRANSITIONS[name].to;

/** The statuses some transition can move a message in `status` to. */
function next(status: MessageStatus): MessageStatus[] {
  return names.flatMap((name) => {
    const to = TRANSITIONS[name].to;
    return to !== null && to !== status && from(name).includes(status) ? [to] : [];
  });
}

describe('the message lifecycle table', () => {
  it('names only known statuses, and each status once', () => {
    expect(new Set(MESSAGE_STATUSES).size).toBe(MESSAGE_STATUSES.length);
    for (const name of names) {
      for (const status of from(name)) expect(MESSAGE_STATUSES).toContain(status);
      const to = TRANSITIONS[name].to;
      if (to !== null) expect(MESSAGE_STATUSES).toContain(to);
    }
  });

  it('reaches every status from the two a message is created in', () => {
    const seen = new Set<MessageStatus>(['pending', 'scheduled']);
    const queue = [...seen];
    while (queue.length > 0) {
      for (const status of next(queue.shift()!)) {
        if (!seen.has(status)) {
          seen.add(status);
          queue.push(status);
        }
      }
    }
    expect([...seen].sort()).toEqual([...MESSAGE_STATUSES].sort());
  });

  it('leaves nothing to happen after bounced, canceled or complained', () => {
    expect(MESSAGE_STATUSES.filter((status) => next(status).length === 0).sort()).toEqual([
      'bounced',
      'canceled',
      'complained',
    ]);
  });

  it('ends an attempt only from sending, and takes a message for one from pending, deferred or sending', () => {
    for (const name of ['markSent', 'defer', 'bounce', 'fail', 'suppress'] as const)
      expect(from(name)).toEqual(['sending']);
    expect([...from('claim')].sort()).toEqual(['deferred', 'pending', 'sending']);
    expect(TRANSITIONS.claim.to).toBe('sending');
  });

  it('follows SPEC §8, §9 and §13 for the other transitions', () => {
    expect(TRANSITIONS.retry).toEqual({ from: ['suppressed', 'failed'], to: 'pending' });
    expect(TRANSITIONS.release).toEqual({ from: ['scheduled'], to: 'pending' });
    expect(TRANSITIONS.cancel).toEqual({ from: ['scheduled'], to: 'canceled' });
    expect(TRANSITIONS.complain).toEqual({ from: ['sent'], to: 'complained' });
    expect([...from('reportBounce')].sort()).toEqual(['deferred', 'sent']);
    expect(TRANSITIONS.reportBounce.to).toBe('bounced');
    expect(TRANSITIONS.recordDelay.to).toBeNull();
  });

  it('never goes back to scheduled (a reschedule stays there), and cancels nothing that was handed to delivery', () => {
    expect(names.filter((name) => entered(name) === 'scheduled')).toEqual(['reschedule']);
    expect(from('reschedule')).toEqual(['scheduled']);
    expect(names.filter((name) => entered(name) === 'canceled')).toEqual(['cancel']);
  });
});

describe('SETTLED_STATUSES', () => {
  it('are the statuses no transition leads back to delivery from: retry keeps failed and suppressed out', () => {
    expect([...SETTLED_STATUSES].sort()).toEqual(['bounced', 'canceled', 'complained', 'sent']);
  });
});
