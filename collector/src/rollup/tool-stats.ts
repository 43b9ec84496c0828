import type { ToolSummary } from '../api/views.js';
import { callErrorType, type CallOutcome } from './failed-call.js';
import { bucketValue, latencyBucket } from './latency-histogram.js';
import { bucketStartMs } from './time-buckets.js';

/**
 * The tool statistics' maths: which percentiles a summary reports, how a call adds to the signed
 * per-minute counts and hourly latency histograms, and how a summary is read back from them. Pure:
 * the store runs the SQL, this decides what the numbers are.
 */
export const QUANTILES = [0.5, 0.95, 0.99] as const;
export type Quantile = (typeof QUANTILES)[number];

/** The summary field of each percentile. */
export const quantileField = (q: Quantile): 'p50Ms' | 'p95Ms' | 'p99Ms' => `p${q * 100}Ms` as 'p50Ms';

/** Exact percentiles in DuckDB SQL, as columns named `p50`, `p95`, `p99`. */
export const exactQuantilesSql = (column: string): string =>
  QUANTILES.map((q) => `quantile_cont(${column}, ${q}) AS p${q * 100}`).join(', ');

/** What the stats need of a call. */
export interface StatCall {
  tool: string;
  service: string;
  outcome: CallOutcome;
  errorType: string | null;
  retryOf: string | null;
  durationMs: number;
  startNs: bigint;
}

export interface ToolCountDelta {
  minuteMs: bigint;
  tool: string;
  service: string;
  errorType: string | null;
  calls: number;
  retries: number;
}

export interface ToolLatencyDelta {
  hourMs: bigint;
  tool: string;
  bucket: number;
  calls: number;
}

/** What calls added to and removed from the per-minute counts and hourly latencies, zero rows left out. */
export const toolStatDeltas = (
  added: readonly StatCall[],
  removed: readonly StatCall[],
): { counts: ToolCountDelta[]; latencies: ToolLatencyDelta[] } => {
  const counts = new Map<string, ToolCountDelta>();
  const latencies = new Map<string, ToolLatencyDelta>();
  const tally = (call: StatCall, sign: 1 | -1) => {
    const minuteMs = bucketStartMs('minute', call.startNs);
    const errorType = callErrorType(call);
    const countKey = `${minuteMs}\u0000${call.tool}\u0000${call.service}\u0000${errorType ?? ''}`;
    let count = counts.get(countKey);
    if (count === undefined) {
      count = { minuteMs, tool: call.tool, service: call.service, errorType, calls: 0, retries: 0 };
      counts.set(countKey, count);
    }
    count.calls += sign;
    if (call.retryOf !== null) count.retries += sign;
    const hourMs = bucketStartMs('hour', call.startNs);
    const bucket = latencyBucket(call.durationMs);
    const latencyKey = `${hourMs}\u0000${call.tool}\u0000${bucket}`;
    let latency = latencies.get(latencyKey);
    if (latency === undefined) {
      latency = { hourMs, tool: call.tool, bucket, calls: 0 };
      latencies.set(latencyKey, latency);
    }
    latency.calls += sign;
  };
  for (const call of removed) tally(call, -1);
  for (const call of added) tally(call, 1);
  return {
    counts: [...counts.values()].filter((count) => count.calls !== 0 || count.retries !== 0),
    latencies: [...latencies.values()].filter((latency) => latency.calls !== 0),
  };
};

/** Summed counts of one (tool, service, error type) over a range. */
export interface ToolCountSum {
  tool: string;
  service: string;
  errorType: string | null;
  calls: number;
  retries: number;
}

/**
 * Per tool, the histogram's total and, for each percentile, the buckets holding the two order
 * statistics that `quantile_cont` interpolates between (ranks ⌊(n−1)q⌋ and that plus one).
 */
export interface ToolLatencyRanks {
  tool: string;
  total: number;
  buckets: ReadonlyMap<Quantile, readonly [number, number]>;
}

/** Summaries from summed tool stats, percentiles interpolated as `quantile_cont` does. */
export const toolSummariesFromStats = (
  counts: readonly ToolCountSum[],
  ranks: readonly ToolLatencyRanks[],
): ToolSummary[] => {
  const summaries = new Map<string, ToolSummary & { serviceSet: Set<string> }>();
  for (const row of counts) {
    let summary = summaries.get(row.tool);
    if (summary === undefined) {
      summary = {
        tool: row.tool,
        services: [],
        serviceSet: new Set(),
        calls: 0,
        errors: 0,
        errorsByType: {},
        retries: 0,
        p50Ms: 0,
        p95Ms: 0,
        p99Ms: 0,
      };
      summaries.set(row.tool, summary);
    }
    if (row.calls !== 0) summary.serviceSet.add(row.service);
    summary.calls += row.calls;
    summary.retries += row.retries;
    if (row.errorType !== null && row.calls !== 0) {
      summary.errors += row.calls;
      summary.errorsByType[row.errorType] = (summary.errorsByType[row.errorType] ?? 0) + row.calls;
    }
  }
  for (const row of ranks) {
    const summary = summaries.get(row.tool);
    if (summary === undefined) continue;
    for (const q of QUANTILES) {
      const [lowBucket, highBucket] = row.buckets.get(q) ?? [0, 0];
      const position = (row.total - 1) * q;
      const low = bucketValue(lowBucket);
      const high = bucketValue(highBucket);
      summary[quantileField(q)] = low + (position - Math.floor(position)) * (high - low);
    }
  }
  return [...summaries.values()]
    .filter((summary) => summary.calls > 0)
    .sort((a, b) => (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0))
    .map(({ serviceSet, ...summary }) => ({
      ...summary,
      services: [...serviceSet].sort(),
      errorsByType: Object.fromEntries(Object.entries(summary.errorsByType).filter(([, count]) => count > 0)),
    }));
};
