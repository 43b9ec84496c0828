/**
 * A bound on the bytes of requests between admission and the ingest queue: bodies being read,
 * inflated, decoded and redacted. The queue bounds what waits for commit; this bounds everything
 * before it, counted in decompressed bytes, so a flood of small compressed requests cannot each
 * inflate to the per-request cap at once.
 */
export interface WorkBudgetOptions {
  /** Bytes in progress at most; one request is still admitted when nothing else is in progress. */
  capacityBytes?: number;
  /** Requests that may wait for room at once; past it, `reserve` answers at once. */
  maxWaiting?: number;
}

interface Waiter {
  bytes: number;
  admit: (reservation: WorkReservation | undefined) => void;
  timer: NodeJS.Timeout;
}

/** Bytes one request holds against the budget while it is worked on. */
export interface WorkReservation {
  readonly bytes: number;
  /** Holds `bytes` instead; growing can fail (false, nothing changed), shrinking always succeeds. */
  resize(bytes: number): boolean;
  /** Gives the bytes back; a second call does nothing. */
  release(): void;
}

export const DEFAULT_WORK_BUDGET_BYTES = 32 * 1024 * 1024;

export class WorkBudget {
  readonly capacityBytes: number;
  private readonly maxWaiting: number;
  private used = 0;
  private holders = 0;
  private readonly waiting: Waiter[] = [];

  constructor({ capacityBytes = DEFAULT_WORK_BUDGET_BYTES, maxWaiting = 256 }: WorkBudgetOptions = {}) {
    this.capacityBytes = capacityBytes;
    this.maxWaiting = maxWaiting;
  }

  /** Bytes held by requests in progress. */
  get bytesInProgress(): number {
    return this.used;
  }

  /**
   * Undefined when `bytes` do not fit beside the requests already in progress. Requests that fit
   * now go ahead of those waiting: the line is for reservations too large for the room left.
   */
  tryReserve(bytes: number): WorkReservation | undefined {
    return this.fits(bytes, 0) ? this.take(bytes) : undefined;
  }

  /**
   * Waits, first come first served, up to `waitMs` for `bytes` to fit; undefined when they did not,
   * or at once when too many wait already. A request that waits has not been read yet: it costs
   * next to nothing, while refusing it would make a well-behaved exporter back off or drop data.
   */
  reserve(bytes: number, waitMs: number): Promise<WorkReservation | undefined> {
    const now = this.tryReserve(bytes);
    if (now !== undefined || this.waiting.length >= this.maxWaiting || waitMs <= 0) {
      return Promise.resolve(now);
    }
    return new Promise((admit) => {
      const waiter: Waiter = {
        bytes,
        admit,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          admit(undefined);
          // The one that timed out may have stood in front of others that fit.
          this.admitWaiting();
        }, waitMs),
      };
      this.waiting.push(waiter);
    });
  }

  /** Whether `extra` bytes fit; a request alone (besides `own` holders) always fits, or it could never run. */
  fits(extra: number, own: number): boolean {
    if (this.holders - own === 0) return true;
    return this.used + extra <= this.capacityBytes;
  }

  /** For reservations only: applies a change they checked. */
  adjust(bytes: number, holders: number): void {
    this.used += bytes;
    this.holders += holders;
    if (bytes < 0) this.admitWaiting();
  }

  private take(bytes: number): WorkReservation {
    this.used += bytes;
    this.holders += 1;
    return new Reservation(this, bytes);
  }

  private admitWaiting(): void {
    for (let next = this.waiting[0]; next !== undefined && this.fits(next.bytes, 0); next = this.waiting[0]) {
      this.waiting.shift();
      clearTimeout(next.timer);
      next.admit(this.take(next.bytes));
    }
  }
}

class Reservation implements WorkReservation {
  private held: number;
  private released = false;

  constructor(
    private readonly budget: WorkBudget,
    bytes: number,
  ) {
    this.held = bytes;
  }

  get bytes(): number {
    return this.held;
  }

  resize(bytes: number): boolean {
    if (this.released) return false;
    if (bytes > this.held && !this.budget.fits(bytes - this.held, 1)) return false;
    this.budget.adjust(bytes - this.held, 0);
    this.held = bytes;
    return true;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.adjust(-this.held, -1);
    this.held = 0;
  }
}
