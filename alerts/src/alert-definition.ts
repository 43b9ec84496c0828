import type { Severity } from './config.js';
import type { LabelName, MetricDefinition } from './metric-names.js';

/**
 * One alert, written once and rendered into a Prometheus rule and a Grafana-managed rule.
 * The condition is `measurement comparator threshold`: Prometheus gets it as one expression,
 * Grafana as a query plus a threshold step, so both see the same value in their templates.
 */
export interface AlertDefinition {
  readonly name: `Mcpscope${string}`;
  /** Rule group (auth, tools, tasks, collector). */
  readonly group: string;
  readonly severity: Severity;
  readonly for: string;
  /** PromQL for the measured value, one series per thing that can be alerting. */
  readonly measurement: string;
  readonly comparator: '>' | '<';
  readonly threshold: number;
  /** One sentence, no template. */
  readonly summary: string;
  /** Templated description; `value` is how the rule engine names the measured value. */
  readonly description: (value: string) => string;
}

/** The measured value's name in each engine's templates. */
export const PROMETHEUS_VALUE = '$value';
export const GRAFANA_VALUE = '$values.A.Value';

export const prometheusExpression = (alert: AlertDefinition): string =>
  `${alert.measurement} ${alert.comparator} ${alert.threshold}`;

export const matcher = (
  label: LabelName | 'job' | 'instance',
  op: '=' | '!=' | '=~' | '!~',
  value: string,
): string => `${label}${op}"${value}"`;

export const selector = (
  metric: MetricDefinition,
  suffix: '' | '_bucket' | '_count',
  matchers: readonly string[],
): string => {
  const present = matchers.map((m) => m.trim()).filter((m) => m.length > 0);
  return `${metric.name}${suffix}${present.length > 0 ? `{${present.join(', ')}}` : ''}`;
};

export const sumBy = (labels: readonly string[], inner: string): string =>
  labels.length > 0 ? `sum by (${labels.join(', ')}) (${inner})` : `sum(${inner})`;

export const rangeFunction = (fn: 'rate' | 'increase', series: string, window: string): string =>
  `${fn}(${series}[${window}])`;

/**
 * The increase of a counter over `window`, counting series born inside the window too. A labelled
 * counter appears at its first value (a service's first rejected token appears at 1), and
 * `increase()` cannot see the step from nothing to that value, so a first burst of auth failures
 * would never page. Series older than the window use `increase()`; newer ones count in full.
 */
export const increaseWithNewSeries = (series: string, window: string): string =>
  `(increase(${series}[${window}]) and ${series} offset ${window}) or (${series} unless ${series} offset ${window})`;
