/** What an attempt of a test message (SPEC §14) does instead of handing it to SMTP. */
export type SimulatedOutcome = 'sent' | 'deferred' | 'bounced' | 'complained' | 'suppressed';

/**
 * The outcome of attempt `attempt` of a test message, from its recipient's
 * local part before any `+label`: `bounced`, `suppressed` and `complained`
 * (sent, then complained about) as named, `deferred` once and then sent,
 * anything else sent.
 */
export function simulatedOutcome(recipient: string, attempt: number): SimulatedOutcome {
  const local = recipient.slice(0, recipient.lastIndexOf('@')).split('+')[0].toLowerCase();
  switch (local) {
    case 'bounced':
    case 'suppressed':
    case 'complained':
      return local;
    case 'deferred':
      return attempt <= 1 ? 'deferred' : 'sent';
    default:
      return 'sent';
  }
}
