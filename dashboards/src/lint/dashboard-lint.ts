import { parser } from '@prometheus-io/lezer-promql';
import type { DashboardJson } from '../dashboard-frame.js';
import { panelsOf, variablesOf } from '../all-dashboards.js';
import { METRICS, PROMETHEUS_UP, type MetricDefinition } from '../metric-names.js';

export interface LintProblem {
  readonly where: string;
  readonly message: string;
}

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];
const RANGE_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'delta', 'idelta', 'deriv']);
/** Same length as `$__rate_interval`, so node positions in the parsed text match the original. */
const RATE_INTERVAL_SENTINEL = '999999999999997s';
const RATE_INTERVAL = '$__rate_interval';

export interface ExpressionLintOptions {
  /** Metric definitions the expression may read; defaults to the collector's metrics and `up`. */
  readonly metrics?: readonly MetricDefinition[];
  /** Every range selector must use Grafana's `$__rate_interval` (dashboards), or any duration (alert rules). */
  readonly requireRateInterval: boolean;
}

/** The series names a metric definition puts in Prometheus, each with the labels it carries. */
export const knownSeries = (metrics: readonly MetricDefinition[]): Map<string, Set<string>> => {
  const series = new Map<string, Set<string>>();
  for (const metric of metrics) {
    const labels = [...metric.labels, ...TARGET_LABELS];
    if (metric.type === 'histogram') {
      series.set(`${metric.name}_bucket`, new Set([...labels, 'le']));
      series.set(`${metric.name}_sum`, new Set(labels));
      series.set(`${metric.name}_count`, new Set(labels));
    } else {
      series.set(metric.name, new Set(labels));
    }
  }
  return series;
};

const defaultMetrics: readonly MetricDefinition[] = [...Object.values(METRICS), PROMETHEUS_UP];

/**
 * Problems with one PromQL expression: does it parse, does it read only series the collector
 * exposes, with their labels, and do its rate windows follow Grafana's `$__rate_interval`.
 */
export const lintExpression = (expr: string, options: ExpressionLintOptions): string[] => {
  const series = knownSeries(options.metrics ?? defaultMetrics);
  const allLabels = new Set([...series.values()].flatMap((labels) => [...labels]));
  const problems: string[] = [];
  const text = expr.replaceAll(RATE_INTERVAL, RATE_INTERVAL_SENTINEL);
  const tree = parser.parse(text);
  const slice = (node: { from: number; to: number }) => text.slice(node.from, node.to);

  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        problems.push(`does not parse near "${text.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
        return;
      }
      switch (node.name) {
        case 'VectorSelector': {
          const identifier = node.node.getChild('Identifier');
          const name = identifier ? slice(identifier) : undefined;
          const labels = name === undefined ? undefined : series.get(name);
          if (name === undefined) problems.push(`selector without a metric name: ${slice(node)}`);
          else if (!labels) problems.push(`unknown metric "${name}"`);
          const matchers = node.node.getChild('LabelMatchers');
          for (const labelName of matchers?.getChildren('UnquotedLabelMatcher') ?? []) {
            const label = labelName.getChild('LabelName');
            const labelText = label ? slice(label) : '';
            if (labels && !labels.has(labelText))
              problems.push(`metric "${name}" has no label "${labelText}"`);
          }
          return false;
        }
        case 'GroupingLabels': {
          for (const label of node.node.getChildren('LabelName')) {
            if (!allLabels.has(slice(label))) problems.push(`grouping by unknown label "${slice(label)}"`);
          }
          return false;
        }
        case 'MatrixSelector': {
          const range = text.slice(text.lastIndexOf('[', node.to) + 1, node.to - 1);
          if (options.requireRateInterval && range !== RATE_INTERVAL_SENTINEL) {
            problems.push(`range [${range}] should be [${RATE_INTERVAL}]`);
          }
          return undefined;
        }
        case 'FunctionCall': {
          const fn = node.node.getChild('FunctionIdentifier');
          const body = node.node.getChild('FunctionCallBody');
          if (fn && RANGE_FUNCTIONS.has(slice(fn)) && body && !body.getChild('MatrixSelector')) {
            problems.push(`${slice(fn)}() needs a range selector`);
          }
          return undefined;
        }
        default:
          return undefined;
      }
    },
  });
  return problems;
};

interface TargetJson {
  refId?: string;
  expr?: string;
  datasource?: { uid?: string };
}

/**
 * The dashboard linter: every query parses and reads known series and labels with
 * `$__rate_interval` windows; every panel has a unit and a description; ids and uids are unique;
 * every panel reads the data-source variable; every variable a query uses exists.
 */
export const lintDashboards = (
  dashboards: readonly DashboardJson[],
  { datasourceVariable = 'datasource', metrics = defaultMetrics } = {},
): LintProblem[] => {
  const problems: LintProblem[] = [];
  const uids = new Set<string>();
  for (const dashboard of dashboards) {
    const report = (where: string, message: string) =>
      problems.push({ where: `${dashboard.uid} ${where}`.trim(), message });
    if (!dashboard.uid) report('', 'dashboard has no uid');
    if (uids.has(dashboard.uid)) report('', 'duplicate dashboard uid');
    uids.add(dashboard.uid);
    const variables = variablesOf(dashboard);
    if (!variables.includes(datasourceVariable)) report('', `no "${datasourceVariable}" variable`);
    if (!Array.isArray(dashboard.links) || dashboard.links.length === 0)
      report('', 'no links to the other dashboards');

    for (const variable of (dashboard.templating as { list?: Array<{ name: string; query?: unknown }> })
      .list ?? []) {
      const match =
        typeof variable.query === 'string' ? /^label_values\((.+),\s*(\w+)\)$/.exec(variable.query) : null;
      if (!match) continue;
      for (const message of lintExpression(match[1] ?? '', { metrics, requireRateInterval: true })) {
        report(`variable ${variable.name}`, message);
      }
    }

    const ids = new Set<number>();
    for (const panel of panelsOf(dashboard)) {
      const where = `panel ${panel.id ?? '?'} "${panel.title ?? ''}"`;
      if (typeof panel.id !== 'number' || panel.id <= 0) report(where, 'panel id must be a positive number');
      else if (ids.has(panel.id)) report(where, 'duplicate panel id');
      if (typeof panel.id === 'number') ids.add(panel.id);
      if (panel.type === 'row') continue;
      const full = panel as typeof panel & {
        description?: string;
        fieldConfig?: { defaults?: { unit?: string } };
        datasource?: { uid?: string };
      };
      if (!full.description?.trim()) report(where, 'no description');
      if (!full.fieldConfig?.defaults?.unit) report(where, 'no unit');
      const targets = (panel.targets ?? []) as TargetJson[];
      if (targets.length === 0) report(where, 'no queries');
      const refIds = new Set<string>();
      for (const target of targets) {
        const at = `${where} query ${target.refId ?? '?'}`;
        if (!target.refId || refIds.has(target.refId)) report(at, 'missing or duplicate refId');
        refIds.add(target.refId ?? '');
        if (target.datasource?.uid !== `\${${datasourceVariable}}`)
          report(at, `does not read the "${datasourceVariable}" variable`);
        const expr = target.expr ?? '';
        for (const message of lintExpression(expr, { metrics, requireRateInterval: true }))
          report(at, message);
        for (const [, name] of expr.matchAll(/\$\{?([A-Za-z]\w*)/g)) {
          if (name !== undefined && !variables.includes(name)) report(at, `uses undefined variable $${name}`);
        }
      }
    }
  }
  return problems;
};
