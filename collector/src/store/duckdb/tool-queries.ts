import type { DuckDBConnection } from '@duckdb/node-api';
import type { TimeRange, ToolMinuteRollup, ToolSummary } from '../../api/views.js';
import {
  bucketStartMsSql,
  CALL_ERROR_TYPE_SQL,
  CALL_FAILED_SQL,
  exactQuantilesSql,
  HOUR_MS,
  minuteFloorMs,
  msToNs,
  QUANTILES,
  toolSummariesFromStats,
  type Quantile,
} from '../../rollup/index.js';
import { MAX_NS, nullableStr, str, strings } from './values.js';

/** A range in Unix nanoseconds, for the `calls` table's `start_ns`. */
const nsRange = ({ fromMs, toMs }: TimeRange) => ({
  from: msToNs(fromMs ?? 0),
  to: toMs === undefined ? MAX_NS : msToNs(toMs),
});

const CALLS_IN_RANGE = 'start_ns >= $from AND start_ns < $to';
const rankColumn = (q: Quantile, next: 0 | 1) => `b_${q * 100}_${next}`;

/**
 * Per-tool summaries over a range. When the range holds at most `exactLimit` calls, everything is
 * computed exactly from the calls themselves; otherwise counts come from the per-minute tool stats
 * (minutes that start in the range) and percentiles from the hourly latency histograms of the hours
 * the range touches (each within 1% of the exact percentile over those hours).
 */
export const listTools = async (
  connection: DuckDBConnection,
  range: TimeRange,
  exactLimit: number,
): Promise<ToolSummary[]> => {
  const msRange = {
    from: BigInt(minuteFloorMs(range.fromMs ?? 0)),
    to: range.toMs === undefined ? MAX_NS : BigInt(Math.ceil(range.toMs)),
  };
  const counts = (
    await connection.runAndReadAll(
      `SELECT tool, service, error_type, sum(calls) AS calls, sum(retries) AS retries
       FROM tool_stats WHERE minute_ms >= $from AND minute_ms < $to
       GROUP BY ALL HAVING sum(calls) <> 0 OR sum(retries) <> 0`,
      msRange,
    )
  )
    .getRowObjectsJS()
    .map((row) => ({
      tool: str(row.tool),
      service: str(row.service),
      errorType: nullableStr(row.error_type),
      calls: Number(row.calls),
      retries: Number(row.retries),
    }));
  const calls = counts.reduce((sum, row) => sum + row.calls, 0);
  if (calls <= exactLimit) return exactToolSummaries(connection, range);
  // For each tool and percentile, the buckets holding the two order statistics to interpolate.
  const rank = (q: number, next: 0 | 1) => `floor((total - 1) * ${q}) + ${next}`;
  const ranks = QUANTILES.flatMap((q) =>
    ([0, 1] as const).map(
      (next) =>
        `min(bucket) FILTER (WHERE upto > least(${rank(q, next)}, total - 1)) AS ${rankColumn(q, next)}`,
    ),
  );
  const buckets = (
    await connection.runAndReadAll(
      `WITH hist AS (
         SELECT tool, bucket, sum(calls) AS n FROM tool_latency
         WHERE hour_ms > $from - ${HOUR_MS} AND hour_ms < $to GROUP BY ALL HAVING sum(calls) > 0
       ), cumulative AS (
         SELECT tool, bucket, sum(n) OVER (PARTITION BY tool ORDER BY bucket) AS upto,
           sum(n) OVER (PARTITION BY tool) AS total
         FROM hist
       )
       SELECT tool, any_value(total) AS total, ${ranks.join(', ')} FROM cumulative GROUP BY tool`,
      msRange,
    )
  )
    .getRowObjectsJS()
    .map((row) => ({
      tool: str(row.tool),
      total: Number(row.total),
      buckets: new Map(
        QUANTILES.map((q) => [q, [Number(row[rankColumn(q, 0)]), Number(row[rankColumn(q, 1)])] as const]),
      ),
    }));
  return toolSummariesFromStats(counts, buckets);
};

/** Tool summaries computed from every call in the range, percentiles exact. */
const exactToolSummaries = async (connection: DuckDBConnection, range: TimeRange): Promise<ToolSummary[]> => {
  const values = nsRange(range);
  const summaries = (
    await connection.runAndReadAll(
      `SELECT tool, list(DISTINCT service ORDER BY service) AS services, count(*) AS calls,
         count(*) FILTER (WHERE ${CALL_FAILED_SQL}) AS errors, count(retry_of) AS retries,
         ${exactQuantilesSql('duration_ms')}
       FROM calls WHERE ${CALLS_IN_RANGE} GROUP BY tool ORDER BY tool`,
      values,
    )
  ).getRowObjectsJS();
  const errorRows = (
    await connection.runAndReadAll(
      `SELECT tool, ${CALL_ERROR_TYPE_SQL} AS error_type, count(*) AS n FROM calls
       WHERE ${CALLS_IN_RANGE} AND ${CALL_FAILED_SQL} GROUP BY ALL`,
      values,
    )
  ).getRowObjectsJS();
  return summaries.map((row): ToolSummary => {
    const errorsByType: Record<string, number> = {};
    for (const error of errorRows) {
      if (error.tool === row.tool) errorsByType[str(error.error_type)] = Number(error.n);
    }
    return {
      tool: str(row.tool),
      services: strings(row.services),
      calls: Number(row.calls),
      errors: Number(row.errors),
      errorsByType,
      retries: Number(row.retries),
      p50Ms: Number(row.p50),
      p95Ms: Number(row.p95),
      p99Ms: Number(row.p99),
    };
  });
};

/** Per-minute stats of one tool, aggregated from the per-call rollup (kept as long as tasks). */
export const toolMinutes = async (
  connection: DuckDBConnection,
  tool: string,
  range: TimeRange,
): Promise<ToolMinuteRollup[]> => {
  const reader = await connection.runAndReadAll(
    `SELECT ${bucketStartMsSql('minute', 'start_ns')} AS minute_ms, count(*) AS calls,
       count(*) FILTER (WHERE ${CALL_FAILED_SQL}) AS errors,
       coalesce(to_json(histogram(${CALL_ERROR_TYPE_SQL}) FILTER (WHERE ${CALL_FAILED_SQL})), '{}') AS errors_by_type,
       count(retry_of) AS retries, ${exactQuantilesSql('duration_ms')}
     FROM calls WHERE tool = $tool AND ${CALLS_IN_RANGE}
     GROUP BY ALL ORDER BY minute_ms`,
    { tool, ...nsRange(range) },
  );
  return reader.getRowObjectsJS().map((row): ToolMinuteRollup => ({
    tool,
    minuteMs: Number(row.minute_ms),
    calls: Number(row.calls),
    errors: Number(row.errors),
    errorsByType: JSON.parse(str(row.errors_by_type)) as Record<string, number>,
    retries: Number(row.retries),
    p50Ms: Number(row.p50),
    p95Ms: Number(row.p95),
    p99Ms: Number(row.p99),
  }));
};
