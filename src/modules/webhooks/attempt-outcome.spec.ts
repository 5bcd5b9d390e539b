import { outcomeOf } from './attempt-outcome';

describe('outcomeOf', () => {
  const schedule = [1000, 5000];
  const now = new Date('2026-12-01T10:00:00.000Z');
  const answer = (statusCode: number | null, error: string | null = null) => ({ statusCode, error });

  it.each([200, 201, 204, 299])('counts %i as a success', (code) => {
    expect(outcomeOf(answer(code), 1, schedule, now, 0.5)).toEqual({
      outcome: 'success',
      error: null,
      nextAttemptAt: null,
    });
  });

  it('retries a 3xx without following it, a 5xx, a 4xx and a timeout after the scheduled delay', () => {
    expect(outcomeOf(answer(302), 1, schedule, now, 0.5)).toEqual({
      outcome: 'failure',
      error: 'HTTP 302: redirects are not followed',
      nextAttemptAt: new Date('2026-12-01T10:00:01.000Z'),
    });
    expect(outcomeOf(answer(500), 2, schedule, now, 0.5)).toMatchObject({
      outcome: 'failure',
      error: 'HTTP 500',
      nextAttemptAt: new Date('2026-12-01T10:00:05.000Z'),
    });
    expect(outcomeOf(answer(404), 1, schedule, now, 0)).toMatchObject({
      error: 'HTTP 404',
      nextAttemptAt: new Date('2026-12-01T10:00:00.900Z'),
    });
    expect(outcomeOf(answer(null, 'timeout: no answer within 50 ms'), 1, schedule, now, 0.5)).toMatchObject({
      outcome: 'failure',
      error: 'timeout: no answer within 50 ms',
    });
  });

  it('gives up after the last delay of the schedule', () => {
    expect(outcomeOf(answer(503), 3, schedule, now, 0.5)).toEqual({
      outcome: 'gave_up',
      error: 'HTTP 503',
      nextAttemptAt: null,
    });
  });

  it('disables on 410, whatever attempt it is', () => {
    expect(outcomeOf(answer(410), 1, schedule, now, 0.5)).toMatchObject({
      outcome: 'disabled',
      nextAttemptAt: null,
    });
    expect(outcomeOf(answer(410), 3, schedule, now, 0.5).outcome).toBe('disabled');
  });
});
