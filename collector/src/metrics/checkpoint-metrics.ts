import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CHECKPOINT_OUTCOMES } from '../rollup/checkpoint-conventions.js';
import { checkpointStepOf } from '../rollup/checkpoint-steps.js';
import { WRITE_VERDICTS } from '../rollup/checkpoints.js';
import { spanFacts } from '../rollup/index.js';
import type { CheckpointReads } from '../store/checkpoint-port.js';
import type { CommitResult } from '../store/ports.js';
import { LabelValueCaps } from './label-caps.js';
import { LABEL, METRICS } from './names.js';

export interface CheckpointMetricsOptions {
  /** The registry the checkpoint metrics of `METRICS` were registered in (the collector's). */
  registry: Registry;
  store: Pick<CheckpointReads, 'pendingCheckpoints' | 'checkpointsAndWrites'>;
  /** The collector's label caps, shared so services and tools fold alike in every metric. */
  labels?: LabelValueCaps;
  /** A checkpoint or a write is counted once nothing new was seen of it (or its trace) for this long. */
  settleSeconds?: number;
  now?: () => number;
}

/** Ids counted, remembered so a late step never counts one twice; the oldest are forgotten past this. */
const MAX_REMEMBERED = 100_000;
const DESTRUCTIVE_VALUES = ['true', 'false', 'unknown'] as const;

const remember = (set: Set<string>, key: string) => {
  set.add(key);
  for (const oldest of set) {
    if (set.size <= MAX_REMEMBERED) break;
    set.delete(oldest);
  }
};

/**
 * Checkpoint and write metrics. Their steps arrive in any order and from several processes, so each
 * is counted once it settles (no new step of the checkpoint, no new span of the write's trace, for the
 * settle time), from the store's verdict over all its steps: counters never count a verdict that a
 * late step would have changed within the settle time. Pending gauges are read from the store.
 */
export class CheckpointMetrics {
  private readonly store: CheckpointMetricsOptions['store'];
  private readonly labels: LabelValueCaps;
  private readonly settleMs: number;
  private readonly now: () => number;
  /** `c:<checkpoint id>` and `t:<trace id>` → when something new of it was last committed. */
  private readonly active = new Map<string, number>();
  private readonly counted = new Set<string>();
  private readonly pendingSeries = new Map<string, { service: string; tool: string }>();
  private settling: Promise<void> | undefined;

  private readonly checkpoints: Counter<string>;
  private readonly wait: Histogram<string>;
  private readonly pending: Gauge<string>;
  private readonly pendingOldest: Gauge<string>;
  private readonly writes: Counter<string>;
  private readonly orphaned: Counter<string>;

  constructor({
    registry,
    store,
    labels = new LabelValueCaps({ maxServices: 200, maxToolsPerService: 100, maxValues: 100 }),
    settleSeconds = 30,
    now = Date.now,
  }: CheckpointMetricsOptions) {
    this.store = store;
    this.labels = labels;
    this.settleMs = settleSeconds * 1000;
    this.now = now;
    const metric = <T>(name: string): T => {
      const found = registry.getSingleMetric(name);
      if (found === undefined) throw new Error(`metric ${name} is not registered`);
      return found as T;
    };
    this.checkpoints = metric(METRICS.checkpoints.name);
    this.wait = metric(METRICS.checkpointWait.name);
    this.pending = metric(METRICS.checkpointsPending.name);
    this.pendingOldest = metric(METRICS.checkpointPendingOldest.name);
    this.writes = metric(METRICS.writes.name);
    this.orphaned = metric(METRICS.orphanedWrites.name);
  }

  private service(name: string): string {
    return this.labels.value(LABEL.serviceName, name);
  }

  /** `service` is the label value already capped. */
  private tool(service: string, tool: string | null): string {
    return tool === null ? '' : this.labels.value(LABEL.tool, tool, service);
  }

  private seriesOf(service: string, tool: string | null) {
    const serviceLabel = this.service(service);
    return { service_name: serviceLabel, gen_ai_tool_name: this.tool(serviceLabel, tool) };
  }

  /**
   * Notes what a commit added and starts each new series at zero, so an alert on any increase sees
   * the first one (a series born at 1 has no increase).
   */
  committed(result: CommitResult): void {
    const now = this.now();
    for (const [index, span] of result.stored.entries()) {
      const step = checkpointStepOf(span, result.facts[index] ?? spanFacts(span));
      if (step === null) continue;
      this.active.set(`t:${step.traceId}`, now);
      if (step.checkpointId !== null) this.active.set(`c:${step.checkpointId}`, now);
      const labels = this.seriesOf(step.service, step.tool);
      if (step.step === 'execute') {
        if (step.readOnly !== false) continue;
        for (const verdict of WRITE_VERDICTS) this.writes.inc({ ...labels, verdict }, 0);
        for (const destructive of DESTRUCTIVE_VALUES) this.orphaned.inc({ ...labels, destructive }, 0);
      } else {
        for (const outcome of CHECKPOINT_OUTCOMES) this.checkpoints.inc({ ...labels, outcome }, 0);
        this.pendingSeries.set(`${labels.service_name}\u0000${labels.gen_ai_tool_name}`, {
          service: labels.service_name,
          tool: labels.gen_ai_tool_name,
        });
      }
    }
  }

  /** Counts the checkpoints and writes that settled; one settling at a time. */
  settle(): Promise<void> {
    this.settling ??= this.settleOnce().finally(() => {
      this.settling = undefined;
    });
    return this.settling;
  }

  private async settleOnce(): Promise<void> {
    const now = this.now();
    const settled = [...this.active]
      .filter(([, lastMs]) => now - lastMs >= this.settleMs)
      .map(([key]) => key);
    if (settled.length === 0) return;
    const checkpointIds = settled.filter((key) => key.startsWith('c:')).map((key) => key.slice(2));
    const traceIds = settled.filter((key) => key.startsWith('t:')).map((key) => key.slice(2));
    const { checkpoints, writes } = await this.store.checkpointsAndWrites(checkpointIds, traceIds);
    // A key that saw something new while the store was read stays active.
    for (const key of settled) {
      const lastMs = this.active.get(key);
      if (lastMs !== undefined && now - lastMs >= this.settleMs) this.active.delete(key);
    }
    for (const checkpoint of checkpoints) {
      const key = `c:${checkpoint.checkpointId}`;
      if (checkpoint.status === 'pending' || this.counted.has(key) || this.active.has(key)) continue;
      remember(this.counted, key);
      const labels = this.seriesOf(checkpoint.service, checkpoint.tool);
      this.checkpoints.inc({ ...labels, outcome: checkpoint.status });
      if (checkpoint.waitMs !== null) this.wait.observe(labels, checkpoint.waitMs / 1000);
    }
    for (const write of writes) {
      if (write.verdict === null) continue;
      const spanKeys = [write.callerSpanId, write.serverSpanId].flatMap((id) =>
        id === null ? [] : [`w:${write.traceId}:${id}`],
      );
      const stillActive =
        this.active.has(`t:${write.traceId}`) ||
        (write.checkpointId !== null && this.active.has(`c:${write.checkpointId}`));
      if (stillActive || spanKeys.some((key) => this.counted.has(key))) continue;
      for (const key of spanKeys) remember(this.counted, key);
      const labels = this.seriesOf(write.service, write.tool);
      this.writes.inc({ ...labels, verdict: write.verdict });
      if (write.orphaned) this.orphaned.inc({ ...labels, destructive: write.destructive });
    }
  }

  /** Sets the pending gauges from the store: called before each scrape. */
  async refreshPending(): Promise<void> {
    const pending = await this.store.pendingCheckpoints();
    const now = this.now();
    this.pending.reset();
    this.pendingOldest.reset();
    for (const { service, tool } of this.pendingSeries.values()) {
      this.pending.set({ service_name: service, gen_ai_tool_name: tool }, 0);
      this.pendingOldest.set({ service_name: service }, 0);
    }
    const oldest = new Map<string, number>();
    for (const checkpoint of pending) {
      const labels = this.seriesOf(checkpoint.service, checkpoint.tool);
      this.pending.inc(labels);
      const waited = Math.max(0, now - checkpoint.requestedAtMs) / 1000;
      oldest.set(labels.service_name, Math.max(oldest.get(labels.service_name) ?? 0, waited));
    }
    for (const [service, seconds] of oldest) this.pendingOldest.set({ service_name: service }, seconds);
  }

  /** Settles on a timer; returns a function that stops it. */
  startSettling(intervalMs = 1000, onError: (error: unknown) => void = () => {}): () => void {
    const timer = setInterval(() => {
      this.settle().catch(onError);
    }, intervalMs);
    timer.unref();
    return function stopCheckpointSettling() {
      clearInterval(timer);
    };
  }
}
