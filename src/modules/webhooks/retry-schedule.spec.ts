import { parseRetrySchedule, retryDelay } from './retry-schedule';

describe('WEBHOOK_RETRY_SCHEDULE', () => {
  it('reads the SPEC default', () => {
    expect(parseRetrySchedule('5s,5m,30m,2h,5h,10h,10h')).toEqual([
      5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
  });

  it('reads ms and spaces around entries', () => {
    expect(parseRetrySchedule('200ms, 1s ,0ms')).toEqual([200, 1000, 0]);
  });

  it.each(['', '5', '5x', '5s,', ',5s', '5 s', '-1s', '1.5s', '169h', Array(51).fill('1s').join(',')])(
    'refuses %j',
    (value) => {
      expect(parseRetrySchedule(value)).toBeNull();
    },
  );
});

describe('retryDelay', () => {
  const schedule = [1000, 60_000];

  it('follows the schedule, jittered by at most 10 % either way', () => {
    expect(retryDelay(schedule, 1, 0.5)).toBe(1000);
    expect(retryDelay(schedule, 1, 0)).toBe(900);
    expect(retryDelay(schedule, 1, 0.999999)).toBe(1100);
    expect(retryDelay(schedule, 2, 0.25)).toBe(57_000);
  });

  it('is used up after its last delay', () => {
    expect(retryDelay(schedule, 3, 0.5)).toBeNull();
    expect(retryDelay([], 1, 0.5)).toBeNull();
  });
});
