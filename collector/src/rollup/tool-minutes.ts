import type { ToolCallRollup } from './task-rollup.js';

export const MINUTE_NS = 60_000_000_000n;

export interface ToolMinuteRollup {
  tool: string;
  /** Start of the minute, Unix milliseconds. */
  minuteMs: number;
  calls: number;
  errors: number;
  errorsByType: Record<string, number>;
  retries: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export const minuteOf = (startNs: bigint): number => Number((startNs / MINUTE_NS) * 60_000n);

/** Linear interpolation between closest ranks, as DuckDB's quantile_cont computes it. */
export const quantile = (sorted: readonly number[], q: number): number => {
  if (sorted.length === 0) return 0;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] ?? 0;
  const high = sorted[upper] ?? low;
  return low + (high - low) * (position - lower);
};

type MinuteCall = Pick<
  ToolCallRollup,
  'tool' | 'outcome' | 'errorType' | 'durationMs' | 'retryOf' | 'startNs'
>;

export const rollUpToolMinutes = (calls: readonly MinuteCall[]): ToolMinuteRollup[] => {
  const buckets = new Map<string, MinuteCall[]>();
  for (const call of calls) {
    const key = `${call.tool}\u0000${minuteOf(call.startNs)}`;
    const bucket = buckets.get(key);
    if (bucket === undefined) buckets.set(key, [call]);
    else bucket.push(call);
  }
  return [...buckets.values()].map((bucket) => {
    const first = bucket[0] as MinuteCall;
    const durations = bucket.map((call) => call.durationMs).sort((a, b) => a - b);
    const errorsByType: Record<string, number> = {};
    for (const call of bucket) {
      if (call.outcome !== 'error') continue;
      const type = call.errorType ?? 'error';
      errorsByType[type] = (errorsByType[type] ?? 0) + 1;
    }
    return {
      tool: first.tool,
      minuteMs: minuteOf(first.startNs),
      calls: bucket.length,
      errors: bucket.filter((call) => call.outcome === 'error').length,
      errorsByType,
      retries: bucket.filter((call) => call.retryOf !== null).length,
      p50Ms: quantile(durations, 0.5),
      p95Ms: quantile(durations, 0.95),
      p99Ms: quantile(durations, 0.99),
    };
  });
};
