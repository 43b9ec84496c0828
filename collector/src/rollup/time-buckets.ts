/**
 * The time buckets of the rollups: tool counts per minute, latency histograms per hour. TypeScript
 * and SQL both read them from here, so a bucket boundary means the same thing on either side.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
const NS_PER_MS = 1_000_000n;
export const MINUTE_NS = BigInt(MINUTE_MS) * NS_PER_MS;
export const HOUR_NS = BigInt(HOUR_MS) * NS_PER_MS;

export type TimeBucket = 'minute' | 'hour';
const BUCKET_MS: Readonly<Record<TimeBucket, number>> = { minute: MINUTE_MS, hour: HOUR_MS };

/** Start of the bucket holding an instant in Unix nanoseconds, as Unix milliseconds. */
export const bucketStartMs = (bucket: TimeBucket, ns: bigint): bigint => {
  const ms = BigInt(BUCKET_MS[bucket]);
  return (ns / (ms * NS_PER_MS)) * ms;
};

/** {@link bucketStartMs} in DuckDB SQL, over a BIGINT column of Unix nanoseconds. */
export const bucketStartMsSql = (bucket: TimeBucket, nsColumn: string): string =>
  `(${nsColumn} // ${BigInt(BUCKET_MS[bucket]) * NS_PER_MS}) * ${BUCKET_MS[bucket]}`;

/** Start of the minute holding an instant in Unix nanoseconds, as Unix milliseconds. */
export const minuteOf = (startNs: bigint): number => Number(bucketStartMs('minute', startNs));

/** Start of the minute holding an instant in Unix milliseconds. */
export const minuteFloorMs = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

export const msToNs = (ms: number): bigint => BigInt(ms) * NS_PER_MS;
