import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lease } from './lease';

const LEASE_MS = 300;

describe('Lease', () => {
  const leases: Lease[] = [];
  const start = (renew: () => Promise<boolean>, errors: unknown[] = []) => {
    const lease = new Lease(renew, LEASE_MS, performance.now(), (error) => errors.push(error));
    leases.push(lease);
    return lease;
  };
  afterEach(() => leases.splice(0).forEach((lease) => lease.stop()));

  it('stays held past its length while renewals succeed', async () => {
    let renewals = 0;
    const lease = start(async () => ++renewals > 0);
    await sleep(LEASE_MS * 3);
    expect(lease.signal.aborted).toBe(false);
    expect(renewals).toBeGreaterThanOrEqual(2);
    expect(lease.remainingMs()).toBeGreaterThan(0);
  });

  it('aborts as lost, and stops renewing, when a renewal finds the attempt no longer holds it', async () => {
    let renewals = 0;
    const lease = start(async () => ++renewals < 2);
    await sleep(LEASE_MS * 3);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toBe('lost');
    expect(lease.lost).toBe(true);
    expect(renewals).toBe(2);
  });

  it('aborts before it runs out when renewals keep failing, and reports each failure', async () => {
    const errors: unknown[] = [];
    const lease = start(async () => {
      throw new Error('database unreachable');
    }, errors);
    await sleep(LEASE_MS - LEASE_MS / 6 + 50);
    expect(lease.signal.reason).toBe('expiring');
    expect(lease.lost).toBe(false);
    expect(lease.remainingMs()).toBeLessThanOrEqual(0);
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });
});
