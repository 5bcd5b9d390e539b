import type { AttemptOutcome } from './dto/webhook.dto';
import { retryDelay } from './retry-schedule';
import type { PostResult } from './webhook-client';

export interface Outcome {
  outcome: AttemptOutcome;
  error: string | null;
  /** When the next attempt is due; set only for `failure`. */
  nextAttemptAt: Date | null;
}

const GONE = 410;

/**
 * What an attempt's answer means (SPEC §12): a 2xx is a success; a 410
 * disables the endpoint and ends the delivery; anything else — a 3xx (not
 * followed), another status, a timeout, a refused connection or address —
 * is a failure retried after the schedule's next delay, or, after the last,
 * the delivery is given up. `attempt` is 1 for the first attempt.
 */
export function outcomeOf(
  result: PostResult,
  attempt: number,
  schedule: readonly number[],
  now: Date,
  random: number,
): Outcome {
  const code = result.statusCode;
  if (code !== null && code >= 200 && code < 300)
    return { outcome: 'success', error: null, nextAttemptAt: null };
  if (code === GONE)
    return {
      outcome: 'disabled',
      error: 'HTTP 410: the endpoint is gone, so it was disabled',
      nextAttemptAt: null,
    };
  const error =
    result.error ??
    (code !== null && code >= 300 && code < 400
      ? `HTTP ${code}: redirects are not followed`
      : `HTTP ${code}`);
  const delay = retryDelay(schedule, attempt, random);
  if (delay === null) return { outcome: 'gave_up', error, nextAttemptAt: null };
  return { outcome: 'failure', error, nextAttemptAt: new Date(now.getTime() + delay) };
}
