import type { DashboardsConfig } from './config.js';
import {
  configMatchers,
  dashboardFrame,
  labelVariable,
  toDashboardJson,
  type DashboardJson,
} from './dashboard-frame.js';
import { AUTH_REASONS, AUTH_SIDES, LABEL, METRICS, REFRESH_FAILURE } from './metric-names.js';
import { datasourceRef, row, statPanel, tablePanel, timeseriesPanel } from './panels.js';
import { matcher, rate, ratio, sumBy } from './promql.js';

export const AUTH_UID_SUFFIX = 'auth';

/** Authentication and authorization failures seen by servers, clients and the collector. */
export const authDashboard = (config: DashboardsConfig): DashboardJson => {
  const datasource = datasourceRef(config.datasourceVariable);
  const base = configMatchers(config.mcpSelector);
  const services = [...base, matcher(LABEL.serviceName, '=~', '$service')];
  const failures = METRICS.authFailures;
  const refreshes = METRICS.tokenRefreshes;
  const sides = AUTH_SIDES.join(', ');
  const reasons = AUTH_REASONS.filter((reason) => reason !== 'token_refreshed').join(', ');

  const builder = dashboardFrame(config, {
    uidSuffix: AUTH_UID_SUFFIX,
    title: 'mcpscope / Auth',
    description: `Authentication failures by service, side (${sides}) and reason, and OAuth token refreshes.`,
    variables: [
      labelVariable(config, {
        name: 'service',
        label: 'Service',
        description: 'Services (service.name) that reported auth events.',
        metric: failures,
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
          title: 'Auth failures',
          description: 'Authentication and authorization failures per second, all sides and reasons.',
          unit: 'reqps',
          width: 6,
          thresholds: [{ value: 0.001, color: 'red' }],
          queries: [{ expr: sumBy([], rate(failures, '', services)), legend: 'failures' }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 2,
          title: 'Expired tokens',
          description:
            'Failures per second because a token was past its expiry; a steady value means refresh is not happening.',
          unit: 'reqps',
          width: 6,
          thresholds: [{ value: 0.001, color: 'orange' }],
          queries: [
            {
              expr: sumBy([], rate(failures, '', [...services, matcher(LABEL.reason, '=', 'expired_token')])),
              legend: 'expired',
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 3,
          title: 'Token refresh failure ratio',
          description: 'Share of OAuth token refreshes attempted by MCP clients that failed.',
          unit: 'percentunit',
          width: 6,
          thresholds: [
            { value: 0.01, color: 'orange' },
            { value: 0.1, color: 'red' },
          ],
          queries: [
            {
              expr: ratio(
                sumBy([], rate(refreshes, '', [...services, matcher(LABEL.outcome, '=', REFRESH_FAILURE)])),
                sumBy([], rate(refreshes, '', services)),
              ),
              legend: 'failed refreshes',
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
          title: 'Services with failures',
          description:
            'How many services report auth failures right now; one means a local problem, many a shared identity provider.',
          unit: 'short',
          width: 6,
          thresholds: [{ value: 1, color: 'orange' }],
          queries: [
            {
              // `or vector(0)`: no failing service reads 0, not "no data".
              expr: `count(${sumBy([LABEL.serviceName], rate(failures, '', services))} > 0) or vector(0)`,
              legend: 'services',
            },
          ],
        },
        datasource,
      ),
    )
    .withRow(row(101, 'Failures'))
    .withPanel(
      timeseriesPanel(
        {
          id: 5,
          title: 'Failures by service',
          description: 'Auth failures per second, by the service that reported them.',
          unit: 'reqps',
          width: 8,
          queries: [
            {
              expr: sumBy([LABEL.serviceName], rate(failures, '', services)),
              legend: `{{${LABEL.serviceName}}}`,
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
          title: 'Failures by side',
          description: `Auth failures per second, by the side that observed them (${sides}).`,
          unit: 'reqps',
          width: 8,
          queries: [{ expr: sumBy([LABEL.side], rate(failures, '', services)), legend: `{{${LABEL.side}}}` }],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 7,
          title: 'Failures by reason',
          description: `Auth failures per second, by reason (${reasons}).`,
          unit: 'reqps',
          width: 8,
          queries: [
            { expr: sumBy([LABEL.reason], rate(failures, '', services)), legend: `{{${LABEL.reason}}}` },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 8,
          title: 'Token refreshes',
          description:
            'OAuth token refreshes per second, by service and outcome; failures here precede expired_token failures.',
          unit: 'reqps',
          width: 12,
          queries: [
            {
              expr: sumBy([LABEL.serviceName, LABEL.outcome], rate(refreshes, '', services)),
              legend: `{{${LABEL.serviceName}}} {{${LABEL.outcome}}}`,
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
          title: 'Failing now',
          description: 'Auth failures per second right now, by service, side and reason.',
          unit: 'reqps',
          width: 12,
          queries: [
            { expr: sumBy([LABEL.serviceName, LABEL.side, LABEL.reason], rate(failures, '', services)) },
          ],
        },
        datasource,
      ),
    );
  return toDashboardJson(builder);
};
