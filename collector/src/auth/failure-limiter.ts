export interface FailureLimiterOptions {
  /** Failed authentications one client address may have per window before it is told to wait. */
  maxFailures?: number;
  windowMs?: number;
  /** Addresses tracked at once; past it the oldest are forgotten, so memory stays bounded. */
  maxAddresses?: number;
  now?: () => number;
}

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Counts failed authentications per client address in fixed windows. An address past the limit is
 * refused before its credential is checked until its window ends: guessing stays slow and costs no
 * signature checks. Addresses behind one NAT or proxy share a window.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor({
    maxFailures = 30,
    windowMs = 60_000,
    maxAddresses = 10_000,
    now = Date.now,
  }: FailureLimiterOptions = {}) {
    this.maxFailures = maxFailures;
    this.windowMs = windowMs;
    this.maxAddresses = maxAddresses;
    this.now = now;
  }

  /** Seconds the address must wait before it may try again, or undefined when it may try now. */
  retryAfterSeconds(address: string): number | undefined {
    const window = this.current(address);
    if (window === undefined || window.failures < this.maxFailures) return undefined;
    return Math.max(1, Math.ceil((window.startedAt + this.windowMs - this.now()) / 1000));
  }

  failed(address: string): void {
    const window = this.current(address);
    if (window !== undefined) {
      window.failures += 1;
      return;
    }
    if (this.windows.size >= this.maxAddresses) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(address, { startedAt: this.now(), failures: 1 });
  }

  private current(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window === undefined) return undefined;
    if (this.now() - window.startedAt < this.windowMs) return window;
    this.windows.delete(address);
    return undefined;
  }
}
