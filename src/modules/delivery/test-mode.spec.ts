import { simulatedOutcome } from './test-mode';

describe('simulatedOutcome (SPEC §14)', () => {
  it.each([
    ['bounced@example.test', 1, 'bounced'],
    ['suppressed@example.test', 1, 'suppressed'],
    ['complained@example.test', 1, 'complained'],
    ['deferred@example.test', 1, 'deferred'],
    ['deferred@example.test', 2, 'sent'],
    ['deferred@example.test', 3, 'sent'],
    ['anyone@example.test', 1, 'sent'],
  ] as const)('%s, attempt %d: %s', (recipient, attempt, outcome) => {
    expect(simulatedOutcome(recipient, attempt)).toBe(outcome);
  });

  it('reads the local part before any +label, whatever its case', () => {
    expect(simulatedOutcome('bounced+signup-42@example.test', 1)).toBe('bounced');
    expect(simulatedOutcome('Complained+a+b@example.test', 1)).toBe('complained');
    expect(simulatedOutcome('deferred+x@example.test', 2)).toBe('sent');
  });

  it('looks at the local part only, never at the domain or a longer name', () => {
    expect(simulatedOutcome('someone@bounced.test', 1)).toBe('sent');
    expect(simulatedOutcome('bounced.not@example.test', 1)).toBe('sent');
    expect(simulatedOutcome('x+bounced@example.test', 1)).toBe('sent');
    expect(simulatedOutcome('notsuppressed@example.test', 1)).toBe('sent');
  });
});
