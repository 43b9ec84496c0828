import type { DashboardsConfig } from './config.js';
import {
  configMatchers,
  dashboardFrame,
  labelVariable,
  toDashboardJson,
  type DashboardJson,
} from './dashboard-frame.js';
import { LABEL, METRICS, type MetricDefinition } from './metric-names.js';
import { datasourceRef, row, statPanel, tablePanel, timeseriesPanel } from './panels.js';
import { histogramQuantile, matcher, rate, RATE_INTERVAL, ratio, selector, sumBy } from './promql.js';

export const CHECKPOINTS_UID_SUFFIX = 'checkpoints';

/**
 * Human checkpoints: what waits for a person now and for how long, how people decide, and the writes
 * that skipped an approval, changed after it, ran on a drifted state or were orphaned by their caller.
 */
export const checkpointsDashboard = (config: DashboardsConfig): DashboardJson => {
  const datasource = datasourceRef(config.datasourceVariable);
  const base = configMatchers(config.mcpSelector);
  const services = [...base, matcher(LABEL.serviceName, '=~', '$service')];
  const { checkpoints, checkpointWait, checkpointsPending, checkpointPendingOldest, writes, orphanedWrites } =
    METRICS;
  // Checkpoints and writes are rare: stats and tables count them, charts show rates. `or vector(0)`:
  // a deployment with no checkpoint yet reads 0, not "no data".
  const inRange = (metric: MetricDefinition, matchers: readonly string[]) =>
    `increase(${selector(metric, '', matchers)}[${RATE_INTERVAL}])`;

  const builder = dashboardFrame(config, {
    uidSuffix: CHECKPOINTS_UID_SUFFIX,
    title: 'mcpscope / Human checkpoints',
    description:
      'Approvals pending now, wait time, approval and rejection rates, unapproved, modified and stale writes, orphaned writes by tool.',
    variables: [
      labelVariable(config, {
        name: 'service',
        label: 'Service',
        description: 'Services (service.name) that reported checkpoints or writes.',
        metric: writes,
        suffix: '',
        labelName: LABEL.serviceName,
        matchers: base,
      }),
    ],
  })
    .withRow(row(100, 'At a glance'))
    .withPanel(
      statPanel(
        {
          id: 1,
          title: 'Pending now',
          description: 'Checkpoints waiting for a human decision right now.',
          unit: 'short',
          width: 6,
          thresholds: [{ value: 1, color: 'orange' }],
          queries: [{ expr: `${sumBy([], selector(checkpointsPending, '', services))} or vector(0)` }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 2,
          title: 'Oldest pending',
          description: 'How long the oldest pending checkpoint has waited.',
          unit: 's',
          width: 6,
          thresholds: [
            { value: 300, color: 'orange' },
            { value: 900, color: 'red' },
          ],
          queries: [{ expr: `max(${selector(checkpointPendingOldest, '', services)}) or vector(0)` }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 3,
          title: 'Approval ratio',
          description: 'Share of the checkpoints decided recently that were approved.',
          unit: 'percentunit',
          width: 6,
          queries: [
            {
              expr: `${ratio(
                sumBy([], inRange(checkpoints, [...services, matcher(LABEL.outcome, '=', 'approved')])),
                sumBy([], inRange(checkpoints, services)),
              )} or vector(0)`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 4,
          title: 'Unapproved or modified writes',
          description:
            'Writes that recently ran without an approval or with arguments other than the approved ones.',
          unit: 'short',
          width: 6,
          thresholds: [{ value: 1, color: 'red' }],
          queries: [
            {
              expr: `${sumBy([], inRange(writes, [...services, matcher(LABEL.verdict, '=~', 'unapproved|modified')]))} or vector(0)`,
            },
          ],
        },
        datasource,
      ),
    )
    .withRow(row(101, 'Decisions'))
    .withPanel(
      timeseriesPanel(
        {
          id: 5,
          title: 'Decisions by outcome',
          description: 'Checkpoints decided per second, by outcome (approved, rejected, expired, cancelled).',
          unit: 'reqps',
          width: 8,
          queries: [
            {
              expr: `${sumBy([LABEL.outcome], rate(checkpoints, '', services))} or vector(0)`,
              legend: `{{${LABEL.outcome}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 6,
          title: 'Wait for a decision',
          description: 'Median and p95 time from a checkpoint request to its decision.',
          unit: 's',
          width: 8,
          queries: [
            { expr: `${histogramQuantile(0.5, checkpointWait, [], services)} or vector(0)`, legend: 'p50' },
            { expr: `${histogramQuantile(0.95, checkpointWait, [], services)} or vector(0)`, legend: 'p95' },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 7,
          title: 'Pending by tool',
          description: 'Checkpoints waiting for a decision, by service and tool.',
          unit: 'short',
          width: 8,
          queries: [
            {
              expr: `${sumBy([LABEL.serviceName, LABEL.tool], selector(checkpointsPending, '', services))} or vector(0)`,
              legend: `{{${LABEL.serviceName}}} {{${LABEL.tool}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withRow(row(102, 'Writes'))
    .withPanel(
      timeseriesPanel(
        {
          id: 8,
          title: 'Writes by verdict',
          description:
            'Executed writes per second, each under its worst verdict (modified, unapproved, stale, approved).',
          unit: 'reqps',
          width: 12,
          queries: [
            {
              expr: `${sumBy([LABEL.verdict], rate(writes, '', services))} or vector(0)`,
              legend: `{{${LABEL.verdict}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      tablePanel(
        {
          id: 9,
          title: 'Unapproved, modified and stale writes',
          description: 'Writes that recently broke or bent an approval, by service, tool and verdict.',
          unit: 'short',
          width: 12,
          queries: [
            {
              expr: `${sumBy(
                [LABEL.serviceName, LABEL.tool, LABEL.verdict],
                inRange(writes, [...services, matcher(LABEL.verdict, '!=', 'approved')]),
              )} or vector(0)`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      tablePanel(
        {
          id: 10,
          title: 'Orphaned writes by tool',
          description:
            'Writes the server completed after the caller gave up (possible stuck locks), by service, tool and whether the tool is destructive.',
          unit: 'short',
          width: 24,
          queries: [
            {
              expr: `${sumBy(
                [LABEL.serviceName, LABEL.tool, LABEL.destructive],
                inRange(orphanedWrites, services),
              )} or vector(0)`,
            },
          ],
        },
        datasource,
      ),
    );
  return toDashboardJson(builder);
};
