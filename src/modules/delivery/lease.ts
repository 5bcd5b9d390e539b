import { performance } from 'node:perf_hooks';

/** Why a lease's signal aborted. */
export type LeaseEnd = 'lost' | 'expiring';

/**
 * Keeps the lease of one delivery attempt while it runs: renews it every
 * third of the lease, and aborts `signal` when the lease is lost (the message
 * is no longer this attempt's) or when renewals failed for so long that it is
 * about to run out. Whatever waits on `signal` (the SMTP send) therefore never
 * outlives the lease, so no other worker can take the message over meanwhile.
 *
 * Times are measured on this process's monotonic clock from before each
 * renewal was sent, so the lease is never thought longer than the database made it.
 */
export class Lease {
  private readonly controller = new AbortController();
  private expiresAt: number;
  private renewTimer?: NodeJS.Timeout;
  private expiryTimer?: NodeJS.Timeout;
  private stopped = false;

  /**
   * @param renew extends the lease in the database; answers false when the attempt no longer holds it
   * @param claimedAt `performance.now()` from before the claim that took the lease
   * @param onRenewError told about a renewal that failed (it is tried again at the next tick)
   */
  constructor(
    private readonly renew: () => Promise<boolean>,
    private readonly leaseMs: number,
    claimedAt: number,
    private readonly onRenewError: (error: unknown) => void,
  ) {
    this.expiresAt = claimedAt + leaseMs;
    this.armExpiry();
    this.scheduleRenewal();
  }

  /** Aborted, with a LeaseEnd as its reason, when the attempt must stop. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.controller.signal.reason === 'lost';
  }

  /** How long this attempt may still act on the message (ms), keeping a margin before the lease runs out. */
  remainingMs(): number {
    return this.expiresAt - this.margin() - performance.now();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
  }

  private margin(): number {
    return this.leaseMs / 6;
  }

  private end(reason: LeaseEnd): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.end('expiring'), Math.max(0, this.remainingMs()));
  }

  private scheduleRenewal(): void {
    this.renewTimer = setTimeout(() => void this.renewNow(), this.leaseMs / 3);
  }

  private async renewNow(): Promise<void> {
    const sentAt = performance.now();
    try {
      const held = await this.renew();
      if (this.stopped) return;
      if (!held) {
        this.end('lost');
        this.stop();
        return;
      }
      this.expiresAt = sentAt + this.leaseMs;
      this.armExpiry();
    } catch (error) {
      if (this.stopped) return;
      this.onRenewError(error);
    }
    this.scheduleRenewal();
  }
}
