import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  AUTH_REASONS,
  AUTH_SIDES,
  type AuthReason,
  type AuthSide,
} from '@mcpscope/instrumentation/conventions';
import { BUILT_IN_RULES } from '@mcpscope/instrumentation/redaction';
import {
  INGEST_PROTOCOLS,
  REJECTION_REASONS,
  type IngestObserver,
  type IngestProtocol,
  type RejectionReason,
} from '../model/ingest-events.js';
import type { SpanRecord } from '../model/span.js';
import {
  FEEDBACK_VERDICTS,
  spanFacts,
  TASK_OUTCOMES,
  TOOLS_CALL_METHOD,
  UNKNOWN_TOOL,
  type SpanFacts,
  type TaskOutcome,
  type TaskRollup,
  type ToolCallRollup,
} from '../rollup/index.js';
import type { CommitResult, RollupResult } from '../store/ports.js';
import {
  LABEL,
  METRICS,
  NO_ERROR_LABEL_VALUE,
  type LabelName,
  type MetricDefinition,
  type MetricKey,
} from './names.js';
import { callSide, RecentCallSpans } from './call-records.js';
import { LabelValueCaps } from './label-caps.js';
import { RetryLedger } from './retry-ledger.js';

export interface CollectorMetricsOptions {
  /** Distinct tool names per service kept as label values; the rest become `_other`. */
  maxToolsPerService?: number;
  /** Distinct service names kept as label values; the rest become `_other`. */
  maxServices?: number;
  /** Distinct values of every other span-derived label (error types, methods, verdicts). */
  maxLabelValues?: number;
  /** A task counts as settled (and is counted by outcome) after this long without a new span. */
  taskSettleSeconds?: number;
  /** Process metrics (CPU, memory, event-loop lag) from prom-client. */
  defaultMetrics?: boolean;
  now?: () => number;
}

/** Service name on auth failures the collector itself observed. */
export const COLLECTOR_SERVICE_NAME = 'mcpscope-collector';

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

const build = (registry: Registry, definition: MetricDefinition): AnyMetric => {
  const common = {
    name: definition.name,
    help: definition.help,
    labelNames: [...definition.labels],
    registers: [registry],
  };
  if (definition.type === 'counter') return new Counter(common);
  if (definition.type === 'gauge') return new Gauge(common);
  return new Histogram({ ...common, buckets: [...(definition.buckets ?? [])] });
};

interface PendingTask {
  rollup: TaskRollup;
  lastActivityMs: number;
}

/** The labels whose values come from span content, each capped. */
const CAPPED_LABELS: readonly LabelName[] = [
  LABEL.serviceName,
  LABEL.tool,
  LABEL.method,
  LABEL.errorType,
  LABEL.verdict,
];

const authReason = (value: string | null): AuthReason =>
  AUTH_REASONS.find((reason) => reason === value) ?? 'other';

/**
 * The collector's Prometheus registry: every metric of `METRICS`, fed by the receivers (as an
 * {@link IngestObserver}) and by committed batches (never by duplicates).
 */
export class CollectorMetrics implements IngestObserver {
  readonly registry = new Registry();
  private readonly metrics: Record<MetricKey, AnyMetric>;
  /** The caps of every span-derived label; the checkpoint metrics share them. */
  readonly labels: LabelValueCaps;
  private readonly recentCalls = new RecentCallSpans();
  private readonly retries = new RetryLedger();
  private readonly pendingTasks = new Map<string, PendingTask>();
  private readonly settledTasks = new Set<string>();
  private readonly settleMs: number;
  private readonly now: () => number;

  constructor({
    maxToolsPerService = 100,
    maxServices = 200,
    maxLabelValues = 100,
    taskSettleSeconds = 30,
    defaultMetrics = true,
    now = Date.now,
  }: CollectorMetricsOptions = {}) {
    this.labels = new LabelValueCaps(
      { maxServices, maxToolsPerService, maxValues: maxLabelValues },
      (label) => this.counter('labelValuesFolded').inc({ label }),
    );
    this.settleMs = taskSettleSeconds * 1000;
    this.now = now;
    const entries = Object.entries(METRICS) as [MetricKey, MetricDefinition][];
    this.metrics = Object.fromEntries(
      entries.map(([key, definition]) => [key, build(this.registry, definition)]),
    ) as Record<MetricKey, AnyMetric>;
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.exposeBoundedSeries();
  }

  /**
   * Every series whose label values form a known, closed set starts at zero, so a rate, an alert or a
   * panel on it reads 0 rather than "no data" before the first event (a rejection, a drop).
   */
  private exposeBoundedSeries(): void {
    for (const protocol of INGEST_PROTOCOLS) {
      if (protocol !== 'api') this.counter('spansReceived').inc({ protocol }, 0);
      for (const reason of REJECTION_REASONS) this.counter('requestsRejected').inc({ protocol, reason }, 0);
    }
    this.counter('spansDropped').inc({ reason: 'storage_error' }, 0);
    for (const outcome of ['success', 'failure']) this.counter('forwardedSpans').inc({ outcome }, 0);
    for (const verdict of FEEDBACK_VERDICTS) this.counter('taskFeedback').inc({ verdict }, 0);
    for (const { name } of BUILT_IN_RULES) this.counter('redactions').inc({ rule: name }, 0);
    for (const kind of ['trace', 'task']) this.counter('foreignClaims').inc({ kind }, 0);
    for (const label of CAPPED_LABELS) this.counter('labelValuesFolded').inc({ label }, 0);
    for (const outcome of ['stale_keys_served', 'no_keys'])
      this.counter('jwksFetchFailures').inc({ outcome }, 0);
    this.counter('spanTimesClamped').inc(0);
    this.counter('jwksStaleKeyVerifications').inc(0);
    for (const outcome of TASK_OUTCOMES) {
      this.counter('tasks').inc({ outcome }, 0);
      this.histogram('taskDuration').zero({ outcome });
    }
  }

  private counter(key: MetricKey): Counter<string> {
    return this.metrics[key] as Counter<string>;
  }
  private gauge(key: MetricKey): Gauge<string> {
    return this.metrics[key] as Gauge<string>;
  }
  private histogram(key: MetricKey): Histogram<string> {
    return this.metrics[key] as Histogram<string>;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  // IngestObserver
  received(protocol: IngestProtocol, spanCount: number): void {
    this.counter('spansReceived').inc({ protocol }, spanCount);
  }
  rejected(protocol: IngestProtocol, reason: RejectionReason): void {
    this.counter('requestsRejected').inc({ protocol, reason });
  }
  authFailed(_protocol: IngestProtocol, reason: AuthReason): void {
    this.counter('authFailures').inc({ service_name: COLLECTOR_SERVICE_NAME, side: 'collector', reason });
  }
  timesClamped(spanCount: number): void {
    this.counter('spanTimesClamped').inc(spanCount);
  }
  /** A failed JWKS fetch, and whether the last good keys still serve. */
  jwksFetchFailed(servingStaleKeys: boolean): void {
    this.counter('jwksFetchFailures').inc({ outcome: servingStaleKeys ? 'stale_keys_served' : 'no_keys' });
  }
  jwksStaleKeysUsed(): void {
    this.counter('jwksStaleKeyVerifications').inc();
  }
  redacted(byRule: Readonly<Record<string, number>>): void {
    for (const [rule, count] of Object.entries(byRule)) {
      if (count > 0) this.counter('redactions').inc({ rule }, count);
    }
  }

  rollupPending(spans: number): void {
    this.gauge('rollupPending').set(spans);
  }
  queueDepth(depth: number): void {
    this.gauge('queueDepth').set(depth);
  }
  queueCapacity(capacity: number): void {
    this.gauge('queueCapacity').set(capacity);
  }
  feedbackRecorded(verdict: string): void {
    this.counter('taskFeedback').inc({ verdict: this.labels.value(LABEL.verdict, verdict) });
  }
  /** Spans taken into the queue whose commit failed; their requests were refused, so exporters retry. */
  commitFailed(spanCount: number): void {
    this.counter('spansDropped').inc({ reason: 'storage_error' }, spanCount);
  }
  /** A trace whose rollup kept failing alone, set aside until the next start. */
  traceSetAside(): void {
    this.counter('rollupSetAside').inc();
  }
  forwarded(outcome: 'success' | 'failure', spanCount: number): void {
    this.counter('forwardedSpans').inc({ outcome }, spanCount);
  }

  /** Derives per-call, token and auth metrics from the spans a commit newly stored. */
  committed(result: CommitResult, commitSeconds: number): void {
    this.histogram('commitDuration').observe(commitSeconds);
    this.counter('spansCommitted').inc(result.stored.length);
    if (result.duplicates > 0) this.counter('duplicateSpans').inc(result.duplicates);
    if (result.foreignClaims) {
      this.counter('foreignClaims').inc({ kind: 'trace' }, result.foreignClaims.traces);
      this.counter('foreignClaims').inc({ kind: 'task' }, result.foreignClaims.tasks);
    }
    for (const [index, span] of result.stored.entries())
      this.observeSpan(span, result.facts[index] ?? spanFacts(span));
  }

  /** Task and retry metrics from what a rollup recomputed. */
  rolledUp(result: RollupResult, seconds: number): void {
    this.histogram('rollupDuration').observe(seconds);
    const now = this.now();
    this.countRetries(this.retries.take(result.newRetries, now));
    for (const taskId of result.removedTaskIds) this.pendingTasks.delete(taskId);
    for (const task of result.touchedTasks) {
      if (!this.settledTasks.has(task.taskId))
        this.pendingTasks.set(task.taskId, { rollup: task, lastActivityMs: now });
    }
  }

  private countRetries(calls: readonly ToolCallRollup[]): void {
    for (const call of calls) {
      const service = this.service(call.service);
      this.counter('toolCallRetries').inc({
        service_name: service,
        gen_ai_tool_name: this.labels.value(LABEL.tool, call.tool, service),
      });
    }
  }

  private service(name: string): string {
    return this.labels.value(LABEL.serviceName, name);
  }

  private observeSpan(span: SpanRecord, facts: SpanFacts) {
    const service = this.service(span.serviceName);
    const side = callSide(facts);
    const call = side === null ? null : this.recentCalls.observe(facts);
    if (side !== null && call !== null && !call.second) {
      const key: MetricKey = side === 'server' ? 'serverOperationDuration' : 'clientOperationDuration';
      // A tool call always names a tool: from its pair when its own span has none.
      const tool = call.tool ?? (facts.method === TOOLS_CALL_METHOD ? UNKNOWN_TOOL : null);
      this.histogram(key).observe(
        {
          service_name: service,
          mcp_method_name: this.labels.value(LABEL.method, facts.method as string),
          gen_ai_tool_name: tool === null ? '' : this.labels.value(LABEL.tool, tool, service),
          error_type: this.labels.value(LABEL.errorType, call.errorType ?? NO_ERROR_LABEL_VALUE),
        },
        Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e9,
      );
    }
    if (facts.inputTokens !== null) {
      this.histogram('tokenUsage').observe(
        { service_name: service, gen_ai_token_type: 'input' },
        facts.inputTokens,
      );
    }
    if (facts.outputTokens !== null) {
      this.histogram('tokenUsage').observe(
        { service_name: service, gen_ai_token_type: 'output' },
        facts.outputTokens,
      );
    }
    if (facts.authOutcome === 'failure') {
      const side: AuthSide =
        AUTH_SIDES.find((known) => known === facts.authSide) ??
        (span.kind === 'client' ? 'client' : 'server');
      this.counter('authFailures').inc({ service_name: service, side, reason: authReason(facts.authReason) });
    }
    if (facts.authReason === 'token_refreshed' || facts.authReason === 'refresh_failed') {
      const refreshes = this.counter('tokenRefreshes');
      // A service that refreshes has both outcomes from then on: a failure ratio reads 0, not no data.
      for (const outcome of ['success', 'failure']) refreshes.inc({ service_name: service, outcome }, 0);
      refreshes.inc({
        service_name: service,
        outcome: facts.authReason === 'token_refreshed' ? 'success' : 'failure',
      });
    }
    if (facts.feedbackVerdict !== null) this.feedbackRecorded(facts.feedbackVerdict);
  }

  /** Counts the tasks that saw no new span for the settle time; returns how many settled. */
  settleIdleTasks(): number {
    const now = this.now();
    this.countRetries(this.retries.expire(now, this.settleMs));
    let settled = 0;
    for (const [taskId, pending] of this.pendingTasks) {
      if (now - pending.lastActivityMs < this.settleMs) continue;
      this.pendingTasks.delete(taskId);
      this.settledTasks.add(taskId);
      this.recordSettledTask(pending.rollup);
      settled += 1;
    }
    // Forget the oldest settled ids so memory stays bounded; a very late span then counts anew.
    for (const taskId of this.settledTasks) {
      if (this.settledTasks.size <= 100_000) break;
      this.settledTasks.delete(taskId);
    }
    return settled;
  }

  private recordSettledTask(task: TaskRollup) {
    const outcome: TaskOutcome = task.outcome;
    this.counter('tasks').inc({ outcome });
    this.histogram('taskDuration').observe({ outcome }, task.durationMs / 1000);
    this.histogram('taskTokens').observe({ gen_ai_token_type: 'input' }, task.inputTokens);
    this.histogram('taskTokens').observe({ gen_ai_token_type: 'output' }, task.outputTokens);
    this.histogram('taskRetries').observe(task.retries);
  }

  /** Checks for settled tasks on a timer; returns a function that stops it. */
  startTaskSettling(intervalMs = 1000): () => void {
    const timer = setInterval(() => this.settleIdleTasks(), intervalMs);
    timer.unref();
    return function stopTaskSettling() {
      clearInterval(timer);
    };
  }
}
