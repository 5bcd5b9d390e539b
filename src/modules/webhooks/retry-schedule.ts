const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DELAY = /^(\d{1,9})(ms|s|m|h)$/;

/** Longest single retry delay the schedule may hold: a week. */
const MAX_DELAY_MS = 7 * 24 * 3_600_000;
const MAX_RETRIES = 50;

/** How far a retry may move from its scheduled delay, either way: 10 %. */
export const RETRY_JITTER = 0.1;

/**
 * WEBHOOK_RETRY_SCHEDULE (`5s,5m,30m`): the delay before each retry in ms,
 * or null when the list is malformed (empty entries, unknown units, over a
 * week, more than 50 retries).
 */
export function parseRetrySchedule(value: string): number[] | null {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.length > MAX_RETRIES) return null;
  const delays: number[] = [];
  for (const part of parts) {
    const match = DELAY.exec(part);
    if (!match) return null;
    const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    if (ms > MAX_DELAY_MS) return null;
    delays.push(ms);
  }
  return delays;
}

/**
 * When the attempt after a failed attempt `attempt` (1 = the first) is due,
 * in ms from now: the schedule's delay for that retry, moved by a random
 * jitter of at most RETRY_JITTER either way (`random` in [0, 1)), so that
 * deliveries that failed together do not all come back at once. Null: the
 * schedule is used up, the delivery is given up.
 */
export function retryDelay(schedule: readonly number[], attempt: number, random: number): number | null {
  const delay = schedule[attempt - 1];
  if (delay === undefined) return null;
  return Math.round(delay * (1 + RETRY_JITTER * (2 * random - 1)));
}
