/**
 * Call latencies as a mergeable log-scale histogram: per-minute rows of the tool rollup add up over
 * any range, and a percentile read from the sum is within 1% of the exact one. Bucket `b` ≥ 1 holds
 * durations in (MIN·γ^(b−1), MIN·γ^b]; bucket 0 holds everything up to MIN (a microsecond).
 */
export const LATENCY_MIN_MS = 0.001;
export const LATENCY_GAMMA = 1.02;
const LOG_GAMMA = Math.log(LATENCY_GAMMA);

/** The bucket of a duration; the SQL twin in the migrations computes the same index. */
export const latencyBucket = (durationMs: number): number =>
  !(durationMs > LATENCY_MIN_MS) ? 0 : Math.ceil(Math.log(durationMs / LATENCY_MIN_MS) / LOG_GAMMA);

/** `latencyBucket` in DuckDB SQL, over a DOUBLE column or expression. */
export const latencyBucketSql = (column: string): string =>
  `CASE WHEN ${column} > ${LATENCY_MIN_MS} THEN CAST(ceil(ln(${column} / ${LATENCY_MIN_MS}) / ln(${LATENCY_GAMMA})) AS INTEGER) ELSE 0 END`;

/** The value a bucket stands for: the point with the same relative distance to both its bounds. */
export const bucketValue = (bucket: number): number =>
  bucket <= 0 ? 0 : (2 * LATENCY_MIN_MS * LATENCY_GAMMA ** bucket) / (LATENCY_GAMMA + 1);
