import { IngestOverloadedError, type SpanRecord, type SpanSink } from '../model/span.js';
import type { CommitResult, SpanStore } from '../store/ports.js';

export interface IngestQueueOptions {
  store: Pick<SpanStore, 'commit'>;
  /** Spans waiting for commit before `accept` answers with {@link IngestOverloadedError}. */
  capacity?: number;
  /**
   * Request bytes waiting for commit before `accept` answers with {@link IngestOverloadedError}:
   * decoded spans take about twice their wire size in memory, whatever their count.
   */
  capacityBytes?: number;
  /** Spans per commit; requests are never split. */
  batchSize?: number;
  /** How long a partial batch waits for company before it is committed. */
  batchIntervalMs?: number;
  /** Told about every commit after its requests were acknowledged; must not throw. */
  onCommitted?: (result: CommitResult, commitSeconds: number) => void;
  /** Told when a commit failed and its requests were rejected. */
  onCommitFailed?: (error: unknown, spanCount: number) => void;
  onDepthChanged?: (depth: number) => void;
  retryAfterSeconds?: number;
}

interface PendingRequest {
  spans: readonly SpanRecord[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The bounded queue between receivers and storage: it batches requests into one transaction and
 * acknowledges each request only after that transaction committed.
 */
export class IngestQueue implements SpanSink {
  private readonly pending: PendingRequest[] = [];
  private waiting = 0;
  private waitingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private closed = false;
  private readonly store: Pick<SpanStore, 'commit'>;
  readonly capacity: number;
  readonly capacityBytes: number;
  private readonly batchSize: number;
  private readonly batchIntervalMs: number;
  private readonly retryAfterSeconds: number;
  private readonly onCommitted: NonNullable<IngestQueueOptions['onCommitted']>;
  private readonly onCommitFailed: NonNullable<IngestQueueOptions['onCommitFailed']>;
  private readonly onDepthChanged: NonNullable<IngestQueueOptions['onDepthChanged']>;

  constructor({
    store,
    capacity = 50_000,
    capacityBytes = 32 * 1024 * 1024,
    batchSize = 2_000,
    batchIntervalMs = 0,
    onCommitted = () => {},
    onCommitFailed = () => {},
    onDepthChanged = () => {},
    retryAfterSeconds = 1,
  }: IngestQueueOptions) {
    this.store = store;
    this.capacity = capacity;
    this.capacityBytes = capacityBytes;
    this.batchSize = batchSize;
    this.batchIntervalMs = batchIntervalMs;
    this.retryAfterSeconds = retryAfterSeconds;
    this.onCommitted = onCommitted;
    this.onCommitFailed = onCommitFailed;
    this.onDepthChanged = onDepthChanged;
  }

  /** Spans accepted and not yet committed. */
  get depth(): number {
    return this.waiting;
  }

  /** Request bytes accepted and not yet committed. */
  get depthBytes(): number {
    return this.waitingBytes;
  }

  get isFull(): boolean {
    return this.waiting >= this.capacity || this.waitingBytes >= this.capacityBytes;
  }

  checkRoomFor(bytes: number): void {
    if (this.closed || this.isFull || !this.fits(0, bytes)) {
      throw new IngestOverloadedError(this.retryAfterSeconds);
    }
  }

  accept(spans: SpanRecord[], bytes = 0): Promise<void> {
    if (this.closed) return Promise.reject(new IngestOverloadedError(this.retryAfterSeconds));
    if (spans.length === 0) return Promise.resolve();
    if (!this.fits(spans.length, bytes)) {
      return Promise.reject(new IngestOverloadedError(this.retryAfterSeconds));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ spans, bytes, resolve, reject });
      this.waiting += spans.length;
      this.waitingBytes += bytes;
      this.onDepthChanged(this.waiting);
      this.schedule();
    });
  }

  /** An oversized request still goes through an empty queue, or it could never be accepted. */
  private fits(spanCount: number, bytes: number): boolean {
    if (this.waiting === 0) return true;
    return this.waiting + spanCount <= this.capacity && this.waitingBytes + bytes <= this.capacityBytes;
  }

  /** Stops accepting and commits everything already accepted. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0 || this.committing !== undefined) {
      if (this.committing !== undefined) await this.committing;
      else this.startCommit();
    }
  }

  private schedule() {
    if (this.committing !== undefined) return;
    if (this.waiting >= this.batchSize) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.startCommit();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.startCommit();
      }, this.batchIntervalMs);
    }
  }

  private startCommit() {
    if (this.committing !== undefined || this.pending.length === 0) return;
    const batch: PendingRequest[] = [];
    let spanCount = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0] as PendingRequest;
      if (batch.length > 0 && spanCount + next.spans.length > this.batchSize) break;
      batch.push(next);
      spanCount += next.spans.length;
      this.pending.shift();
    }
    this.committing = this.commit(batch, spanCount).finally(() => {
      this.committing = undefined;
      if (this.pending.length > 0 && !this.closed) this.schedule();
    });
  }

  /** The queue no longer holds these requests' spans: they are answered next. */
  private settled(batch: readonly PendingRequest[]): void {
    for (const request of batch) {
      this.waiting -= request.spans.length;
      this.waitingBytes -= request.bytes;
    }
    this.onDepthChanged(this.waiting);
  }

  private async commit(batch: readonly PendingRequest[], spanCount: number): Promise<void> {
    const started = process.hrtime.bigint();
    let result: CommitResult;
    try {
      result = await this.store.commit(batch.flatMap((request) => request.spans));
    } catch (error) {
      if (batch.length > 1) {
        // The transaction rolled back whole. A request holding something the store cannot take must
        // not sink the others grouped with it: each is committed on its own, and only what fails
        // alone is refused.
        for (const request of batch) await this.commit([request], request.spans.length);
        return;
      }
      this.settled(batch);
      for (const request of batch) request.reject(error);
      try {
        this.onCommitFailed(error, spanCount);
      } catch {
        // Reporting must never change what the exporters were told.
      }
      return;
    }
    this.settled(batch);
    for (const request of batch) request.resolve();
    try {
      this.onCommitted(result, Number(process.hrtime.bigint() - started) / 1e9);
    } catch {
      // Metrics and forwarding run after the acknowledgement and cannot undo it.
    }
  }
}
