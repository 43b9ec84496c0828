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
