import { describe, expect, it } from 'vitest';
import { LABEL, METRICS } from './metric-names.js';
import {
  allDashboards,
  defaultDashboardsConfig,
  expandGrafanaVariables,
  listPanelQueries,
  lintDashboards,
  panelsOf,
  type DashboardJson,
} from './index.js';
import { lintExpression } from './lint/dashboard-lint.js';

const clone = (dashboard: DashboardJson): DashboardJson =>
  JSON.parse(JSON.stringify(dashboard)) as DashboardJson;
const firstQueryPanel = (dashboard: DashboardJson) => {
  const panel = panelsOf(dashboard).find((p) => p.type !== 'row');
  if (!panel) throw new Error('dashboard without panels');
  return panel as Record<string, unknown> & { targets: Array<{ expr: string }> };
};

describe('dashboard linter', () => {
  it('finds no problem in the generated dashboards', () => {
    expect(lintDashboards(allDashboards())).toEqual([]);
  });

  it('flags a query that does not parse', () => {
    const broken = clone(allDashboards()[0]!);
    firstQueryPanel(broken).targets[0]!.expr = 'sum(rate(mcpscope_tasks_total[$__rate_interval])';
    expect(lintDashboards([broken]).map((p) => p.message)).toContainEqual(
      expect.stringMatching(/does not parse/),
    );
  });

  it('flags an unknown metric, an unknown label and a fixed rate window', () => {
    expect(
      lintExpression('sum(rate(mcp_server_requests_total[$__rate_interval]))', { requireRateInterval: true }),
    ).toEqual(['unknown metric "mcp_server_requests_total"']);
    expect(
      lintExpression(`sum(rate(${METRICS.tasks.name}{${LABEL.serviceName}="x"}[$__rate_interval]))`, {
        requireRateInterval: true,
      }),
    ).toEqual([`metric "${METRICS.tasks.name}" has no label "${LABEL.serviceName}"`]);
    expect(
      lintExpression(`sum by (tool) (rate(${METRICS.tasks.name}[5m]))`, { requireRateInterval: true }),
    ).toEqual(['grouping by unknown label "tool"', 'range [5m] should be [$__rate_interval]']);
    // A histogram is exposed as _bucket/_sum/_count only, and only _bucket carries `le`.
    expect(
      lintExpression(`${METRICS.taskDuration.name}_count{le="1"}`, { requireRateInterval: true }),
    ).toEqual([`metric "${METRICS.taskDuration.name}_count" has no label "le"`]);
    expect(lintExpression(METRICS.taskDuration.name, { requireRateInterval: true })).toEqual([
      `unknown metric "${METRICS.taskDuration.name}"`,
    ]);
  });

  it('flags a panel without unit or description, duplicate ids and a fixed data source', () => {
    const dashboard = clone(allDashboards()[1]!);
    const panel = firstQueryPanel(dashboard);
    delete panel.description;
    (panel.fieldConfig as { defaults: { unit?: string } }).defaults.unit = undefined;
    (panel.targets[0] as { datasource?: unknown }).datasource = { type: 'prometheus', uid: 'prom-prod' };
    dashboard.panels.push({ ...dashboard.panels[1] });
    const messages = lintDashboards([dashboard, dashboard]).map((p) => p.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'no description',
        'no unit',
        'duplicate panel id',
        'duplicate dashboard uid',
        'does not read the "datasource" variable',
      ]),
    );
  });

  it('flags a query that uses a variable the dashboard does not define', () => {
    const dashboard = clone(allDashboards()[2]!);
    firstQueryPanel(dashboard).targets[0]!.expr =
      `sum(rate(${METRICS.tasks.name}{${LABEL.outcome}=~"$cluster"}[$__rate_interval]))`;
    expect(lintDashboards([dashboard]).map((p) => p.message)).toEqual(['uses undefined variable $cluster']);
  });
});

describe('dashboards', () => {
  it('are the ones the issues list, with stable uids', () => {
    expect(allDashboards().map((d) => [d.uid, d.title])).toEqual([
      ['mcpscope-overview', 'mcpscope / MCP overview'],
      ['mcpscope-tool', 'mcpscope / Tool drill-down'],
      ['mcpscope-tasks', 'mcpscope / Agent tasks'],
      ['mcpscope-auth', 'mcpscope / Auth'],
      ['mcpscope-checkpoints', 'mcpscope / Human checkpoints'],
      ['mcpscope-collector', 'mcpscope / Collector health'],
    ]);
  });

  it('keep their panel ids: links and bookmarks point at them', () => {
    const ids = Object.fromEntries(
      allDashboards().map((d) => [d.uid, panelsOf(d).map((p) => `${p.id} ${p.title}`)]),
    );
    expect(ids).toEqual({
      'mcpscope-overview': [
        '100 At a glance',
        '1 Requests',
        '2 Error ratio',
        '3 p95 latency',
        '4 Retries',
        '101 Traffic and errors',
        '5 Requests by service and method',
        '6 Error ratio by error type',
        '102 Latency',
        '7 Latency percentiles by service',
        '8 p95 latency by tool',
        '9 p95 latency seen by callers',
        '10 Retries by tool',
        '103 Failing tools',
        '11 Top failing tools',
      ],
      'mcpscope-tool': [
        '100 At a glance',
        '1 Calls',
        '2 Error ratio',
        '3 p95 latency',
        '4 Retries',
        '101 Calls and errors',
        '5 Calls by service',
        '6 Errors by type',
        '102 Latency',
        '7 Server-side latency percentiles',
        '8 Caller-side latency percentiles',
        '9 Retries by service',
      ],
      'mcpscope-tasks': [
        '100 At a glance',
        '1 Task failure ratio',
        '2 Judged correct',
        '3 Median task duration',
        '4 Tokens per task',
        '101 Outcomes',
        '5 Tasks by outcome',
        '6 Retries per task',
        '7 Task duration by outcome',
        '8 Share of tasks judged correct',
        '102 Tokens',
        '9 Tokens per task by type',
        '10 Token usage by service and type',
      ],
      'mcpscope-auth': [
        '100 At a glance',
        '1 Auth failures',
        '2 Expired tokens',
        '3 Token refresh failure ratio',
        '4 Services with failures',
        '101 Failures',
        '5 Failures by service',
        '6 Failures by side',
        '7 Failures by reason',
        '8 Token refreshes',
        '9 Failing now',
      ],
      'mcpscope-checkpoints': [
        '100 At a glance',
        '1 Pending now',
        '2 Oldest pending',
        '3 Approval ratio',
        '4 Unapproved or modified writes',
        '101 Decisions',
        '5 Decisions by outcome',
        '6 Wait for a decision',
        '7 Pending by tool',
        '102 Writes',
        '8 Writes by verdict',
        '9 Unapproved, modified and stale writes',
        '10 Orphaned writes by tool',
      ],
      'mcpscope-collector': [
        '100 At a glance',
        '1 Collectors up',
        '2 Spans received',
        '3 Queue fill',
        '4 Spans dropped',
        '101 Ingest',
        '5 Ingest',
        '6 Rejections by reason',
        '7 Queue depth',
        '8 Commit latency',
        '12 Rollup lag',
        '102 Safety and forwarding',
        '9 Redactions by rule',
        '10 Spans dropped by reason',
        '11 Forwarded spans',
      ],
    });
  });

  it('each link to the others through the shared tag and carry the data-source variable', () => {
    for (const dashboard of allDashboards()) {
      expect(dashboard.tags).toContain('mcpscope');
      expect(dashboard.links).toEqual([
        expect.objectContaining({
          type: 'dashboards',
          tags: ['mcpscope'],
          includeVars: true,
          keepTime: true,
        }),
      ]);
    }
  });

  it('read the selectors and thresholds of the config object', () => {
    const config = {
      ...defaultDashboardsConfig,
      mcpSelector: 'cluster="prod"',
      collectorSelector: 'job="collectors"',
      thresholds: { ...defaultDashboardsConfig.thresholds, latencyP95WarningSeconds: 0.75 },
    };
    const queries = listPanelQueries(config);
    expect(
      queries
        .filter((q) => q.dashboardUid === 'mcpscope-overview')
        .every((q) => q.expr.includes('cluster="prod"')),
    ).toBe(true);
    expect(
      queries
        .filter((q) => q.dashboardUid === 'mcpscope-collector')
        .every((q) => q.expr.includes('job="collectors"')),
    ).toBe(true);
    const latency = panelsOf(allDashboards(config)[0]!).find((p) => p.id === 3) as {
      fieldConfig: { defaults: { thresholds: { steps: Array<{ value: number | null }> } } };
    };
    expect(latency.fieldConfig.defaults.thresholds.steps.map((s) => s.value)).toEqual([null, 0.75, 5]);
  });

  it('link tools and tasks to traces only when a trace backend is configured', () => {
    const links = (config: typeof defaultDashboardsConfig) =>
      allDashboards(config)
        .flatMap((d) => panelsOf(d))
        .flatMap(
          (p) =>
            (p as { fieldConfig?: { defaults?: { links?: Array<{ url: string }> } } }).fieldConfig?.defaults
              ?.links ?? [],
        );
    expect(links(defaultDashboardsConfig)).toEqual([]);
    const withTempo = links({ ...defaultDashboardsConfig, traces: { datasourceUid: 'tempo' } });
    expect(withTempo.length).toBeGreaterThan(0);
    expect(withTempo.map((l) => l.url)).toContainEqual(
      expect.stringContaining('span.gen_ai.tool.name = \\"${__field.labels.gen_ai_tool_name}\\"'),
    );
    expect(withTempo.map((l) => l.url)).toContainEqual(expect.stringContaining('span.mcpscope.task.id'));
  });
});

describe('panel query listing for the end-to-end suite', () => {
  it('lists every query with its dashboard, panel and variables', () => {
    const queries = listPanelQueries();
    const targets = allDashboards()
      .flatMap((d) => panelsOf(d))
      .flatMap((p) => p.targets ?? []);
    expect(queries).toHaveLength(targets.length);
    expect(queries).toContainEqual(
      expect.objectContaining({
        dashboardUid: 'mcpscope-tool',
        panelId: 1,
        refId: 'A',
        variables: ['service', 'tool'],
      }),
    );
    expect(queries.find((q) => q.dashboardUid === 'mcpscope-overview' && q.panelId === 11)?.instant).toBe(
      true,
    );
  });

  it('expands Grafana variables into plain PromQL', () => {
    const expr = 'sum(rate(x{service_name=~"$service", gen_ai_tool_name=~"${tool}"}[$__rate_interval]))';
    expect(expandGrafanaVariables(expr, { variables: { tool: 'plan_changes' } })).toBe(
      'sum(rate(x{service_name=~".*", gen_ai_tool_name=~"plan_changes"}[1m]))',
    );
  });
});
