import type { DuckDBConnection } from '@duckdb/node-api';
import type { RollupResult } from '../ports.js';
import type { StoreConnections } from './connections.js';
import type { PendingLedger, PendingTrace } from './pending-ledger.js';
import type { RollupTransaction } from './rollup-transaction.js';
import { report } from './values.js';

const ROLLUP_RETRY_MS = 1_000;
/** Failures of one trace's rollup alone, while other traces rolled up, before it is set aside. */
export const ROLLUP_ATTEMPTS_BEFORE_SET_ASIDE = 3;
/** Traces tried alone before a failure of all of them is taken for a failure of everything. */
const ISOLATION_PROBES = 8;

export interface RollupSchedule {
  /** How long acknowledged spans may wait before their tasks are rolled up. */
  rollupIntervalMs: number;
  /** Spans waiting for their rollup that start one at once. */
  rollupBatchSpans: number;
  /** How long a read waits for the rollup of spans acknowledged before it, at most. */
  readWaitMs: number;
  onRolledUp?: ((result: RollupResult, seconds: number) => void) | undefined;
  onRollupFailed?: ((error: unknown) => void) | undefined;
  onTraceSetAside?: ((traceId: string, error: unknown) => void) | undefined;
}

/**
 * When rollups run: one at a time, a moment after a commit or at once when enough spans wait, and
 * before every read (for a bounded time). A rollup that fails is retried; one trace whose rollup
 * keeps failing alone while others roll up is set aside instead of holding every other up.
 */
export class RollupScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Traces whose rollup failed alone, by attempts so far. */
  private readonly failedAlone = new Map<string, number>();

  constructor(
    private readonly connections: StoreConnections,
    private readonly ledger: PendingLedger,
    private readonly transaction: RollupTransaction,
    private readonly schedule: RollupSchedule,
  ) {}

  /** After a commit: starts a rollup now when enough spans wait, else sets the timer. */
  committed(): void {
    if (!this.connections.isOpen || this.running !== undefined) return;
    if (this.ledger.waitingSpans >= this.schedule.rollupBatchSpans) {
      this.stopTimer();
      void this.flush().catch(() => undefined);
    } else if (this.timer === undefined && this.ledger.traceCount > 0) {
      this.startTimer(this.schedule.rollupIntervalMs);
    }
  }

  /** Rolls up every trace acknowledged so far; resolves once their tasks are committed. */
  flush(): Promise<void> {
    const running = this.running ?? Promise.resolve();
    // One rollup at a time; a flush during one waits for it and then takes what arrived meanwhile.
    const next = running
      .catch(() => undefined)
      .then(async () => {
        if (this.ledger.traceCount === 0 || !this.connections.isOpen) return;
        await this.connections.rollUp((connection) => this.rollUpPending(connection));
      });
    const tracked: Promise<void> = next.finally(() => {
      if (this.running === tracked) this.running = undefined;
      this.committed();
    });
    this.running = tracked;
    return tracked;
  }

  /**
   * Reads see every acknowledged span's rollup: they wait for one when spans are pending, for at most
   * `readWaitMs` (a rollup of a very large task takes seconds), then answer from the rollups committed
   * so far. A failed rollup is logged and retried; reads do not wait for the retry either.
   */
  async caughtUp(): Promise<void> {
    if (this.ledger.traceCount === 0 && this.running === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.schedule.readWaitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private startTimer(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, delayMs);
  }

  private async rollUpPending(connection: DuckDBConnection): Promise<void> {
    this.stopTimer();
    const take = this.ledger.take();
    if (take === undefined) return;
    const { traces: pending, throughSeq } = take;
    let result: RollupResult;
    const started = process.hrtime.bigint();
    try {
      result = await this.transaction.run(connection, pending, throughSeq);
      this.ledger.rollupDone();
      if (this.failedAlone.size > 0) for (const traceId of pending.keys()) this.failedAlone.delete(traceId);
    } catch (error) {
      // One trace whose rollup always fails must not hold every other up: each is tried alone.
      const alone = pending.size > 1 ? await this.rollUpOneByOne(connection, pending, throughSeq) : undefined;
      this.ledger.rollupDone();
      if (alone === undefined || alone.failed.size === pending.size) {
        // Nothing rolled up, so nothing points at one trace: all are tried again a little later.
        this.retryLater(pending);
        report(() => this.schedule.onRollupFailed?.(error));
        throw error;
      }
      result = alone.result;
      const retry = new Map<string, PendingTrace>();
      for (const [traceId, failure] of alone.failed) {
        const attempts = (this.failedAlone.get(traceId) ?? 0) + 1;
        if (attempts < ROLLUP_ATTEMPTS_BEFORE_SET_ASIDE) {
          this.failedAlone.set(traceId, attempts);
          retry.set(traceId, pending.get(traceId) as PendingTrace);
          report(() => this.schedule.onRollupFailed?.(failure));
        } else {
          this.failedAlone.delete(traceId);
          this.ledger.setAside.add(traceId);
          report(() => this.schedule.onTraceSetAside?.(traceId, failure));
        }
      }
      this.retryLater(retry);
    }
    report(() => this.schedule.onRolledUp?.(result, Number(process.hrtime.bigint() - started) / 1e9));
  }

  /** Puts traces back into the ledger and tries again a little later. */
  private retryLater(traces: Map<string, PendingTrace>): void {
    this.ledger.putBack(traces);
    if (this.connections.isOpen && this.timer === undefined && traces.size > 0)
      this.startTimer(ROLLUP_RETRY_MS);
  }

  /** Each trace in its own transaction, after a rollup of them all failed: which ones fail alone? */
  private async rollUpOneByOne(
    connection: DuckDBConnection,
    pending: ReadonlyMap<string, PendingTrace>,
    throughSeq: bigint,
  ): Promise<{ result: RollupResult; failed: Map<string, unknown> }> {
    const result: RollupResult = { touchedTasks: [], removedTaskIds: [], newRetries: [] };
    const failed = new Map<string, unknown>();
    let succeeded = 0;
    for (const [traceId, entry] of pending) {
      // The first traces all failing too is a failure of everything (a full disk): stop trying.
      if (succeeded === 0 && failed.size >= ISOLATION_PROBES) {
        const first: unknown = failed.values().next().value;
        for (const rest of pending.keys()) if (!failed.has(rest)) failed.set(rest, first);
        break;
      }
      try {
        const one = await this.transaction.run(connection, new Map([[traceId, entry]]), throughSeq, traceId);
        succeeded += 1;
        this.failedAlone.delete(traceId);
        for (const task of one.touchedTasks) result.touchedTasks.push(task);
        for (const taskId of one.removedTaskIds) result.removedTaskIds.push(taskId);
        for (const call of one.newRetries) result.newRetries.push(call);
      } catch (error) {
        failed.set(traceId, error);
      }
    }
    return { result, failed };
  }
}
