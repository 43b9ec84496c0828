import type { LabelName, MetricDefinition } from './metric-names.js';

/** Grafana's rate window: at least four scrape intervals, whatever the zoom level. */
export const RATE_INTERVAL = '$__rate_interval';

export type SeriesSuffix = '' | '_bucket' | '_sum' | '_count';

/** Labels Prometheus attaches to every scraped series. */
export type TargetLabel = 'job' | 'instance';

/** One label matcher; `value` may hold a Grafana variable such as `$service`. */
export const matcher = (
  label: LabelName | TargetLabel,
  op: '=' | '!=' | '=~' | '!~',
  value: string,
): string => `${label}${op}"${value}"`;

/** A series selector from a metric definition, with empty matchers left out. */
export const selector = (
  metric: MetricDefinition,
  suffix: SeriesSuffix,
  matchers: readonly string[] = [],
): string => {
  const present = matchers.filter((m) => m.length > 0);
  return `${metric.name}${suffix}${present.length > 0 ? `{${present.join(', ')}}` : ''}`;
};

export const rate = (
  metric: MetricDefinition,
  suffix: SeriesSuffix,
  matchers: readonly string[] = [],
  window: string = RATE_INTERVAL,
): string => `rate(${selector(metric, suffix, matchers)}[${window}])`;

export const sumBy = (labels: readonly string[], inner: string): string =>
  labels.length > 0 ? `sum by (${labels.join(', ')}) (${inner})` : `sum(${inner})`;

/** Quantile of a histogram metric, grouped by `by`, over the rate window. */
export const histogramQuantile = (
  quantile: number,
  metric: MetricDefinition,
  by: readonly string[],
  matchers: readonly string[] = [],
  window: string = RATE_INTERVAL,
): string =>
  `histogram_quantile(${quantile}, ${sumBy(['le', ...by], rate(metric, '_bucket', matchers, window))})`;

/** Mean of a histogram metric (sum over count), grouped by `by`. */
export const histogramMean = (
  metric: MetricDefinition,
  by: readonly string[],
  matchers: readonly string[] = [],
  window: string = RATE_INTERVAL,
): string =>
  `${sumBy(by, rate(metric, '_sum', matchers, window))} / ${sumBy(by, rate(metric, '_count', matchers, window))}`;

/** `numerator / denominator`, with the denominator clamped so an idle system reads 0, not NaN. */
export const ratio = (numerator: string, denominator: string): string =>
  `(${numerator}) / clamp_min(${denominator}, 1e-12)`;

/** Each series of a grouped `numerator` as a share of one ungrouped `total`. */
export const shareOfTotal = (numerator: string, total: string): string =>
  `(${numerator}) / scalar(clamp_min(${total}, 1e-12))`;
