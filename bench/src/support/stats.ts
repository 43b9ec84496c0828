/** Median, min and max of repeated rounds: the form every figure in RESULTS.md takes. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  samples: number;
}

export const spreadOf = (values: readonly number[]): Spread => {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, samples: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples: sorted.length };
};

/** The value at quantile q (0..1) of unsorted samples, nearest-rank. */
export const quantile = (values: readonly number[], q: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
};

export const formatNumber = (value: number, digits = 1): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';

/** `median (min–max)`. */
export const formatSpread = (spread: Spread, digits = 1, unit = ''): string =>
  spread.samples === 0
    ? 'n/a'
    : `${formatNumber(spread.median, digits)}${unit} (${formatNumber(spread.min, digits)}–${formatNumber(spread.max, digits)})`;

/** Rotates the order each round so no variant always runs first or last. */
export const rotated = <T>(items: readonly T[], round: number): T[] => {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
};
