import type { DashboardsConfig } from './config.js';
import { configMatchers, dashboardFrame, toDashboardJson, type DashboardJson } from './dashboard-frame.js';
import { LABEL, METRICS, VERDICT_CORRECT } from './metric-names.js';
import { datasourceRef, row, statPanel, timeseriesPanel } from './panels.js';
import { histogramMean, histogramQuantile, matcher, rate, ratio, sumBy } from './promql.js';
import { failedTaskTraceLinks } from './trace-links.js';

export const AGENT_TASKS_UID_SUFFIX = 'tasks';

/** Agent tasks as the collector judges them: outcome, retries, duration, tokens, correctness. */
export const agentTasksDashboard = (config: DashboardsConfig): DashboardJson => {
  const datasource = datasourceRef(config.datasourceVariable);
  const base = configMatchers(config.mcpSelector);
  const allTasks = sumBy([], rate(METRICS.tasks, '', base));
  const failedTasks = sumBy([], rate(METRICS.tasks, '', [...base, matcher(LABEL.outcome, '=', 'failed')]));
  const { thresholds } = config;
  const failureSteps = [
    { value: thresholds.taskFailureRatioWarning, color: 'orange' as const },
    { value: thresholds.taskFailureRatioCritical, color: 'red' as const },
  ];

  const builder = dashboardFrame(config, {
    uidSuffix: AGENT_TASKS_UID_SUFFIX,
    title: 'mcpscope / Agent tasks',
    description:
      'Agent tasks (spans sharing a task id, or a trace) by outcome: success, recovered after retries, or failed; with duration, retries and tokens.',
  })
    .withRow(row(100, 'At a glance'))
    .withPanel(
      statPanel(
        {
          id: 1,
          title: 'Task failure ratio',
          description:
            'Share of settled tasks whose outcome is failed (some call failed and was never retried successfully).',
          unit: 'percentunit',
          width: 6,
          thresholds: failureSteps,
          queries: [{ expr: ratio(failedTasks, allTasks), legend: 'failed' }],
          links: failedTaskTraceLinks(config),
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 2,
          title: 'Judged correct',
          description:
            'Share of task verdicts that say the result was correct, among tasks that received a verdict.',
          unit: 'percentunit',
          width: 6,
          queries: [
            {
              expr: ratio(
                sumBy(
                  [],
                  rate(METRICS.taskFeedback, '', [...base, matcher(LABEL.verdict, '=', VERDICT_CORRECT)]),
                ),
                sumBy([], rate(METRICS.taskFeedback, '', base)),
              ),
              legend: 'correct',
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
          title: 'Median task duration',
          description: 'Median time from the first span of a task to the end of its last span.',
          unit: 's',
          width: 6,
          queries: [{ expr: histogramQuantile(0.5, METRICS.taskDuration, [], base), legend: 'p50' }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 4,
          title: 'Tokens per task',
          description: 'Mean LLM tokens (input and output together) a settled task used.',
          unit: 'short',
          width: 6,
          queries: [
            { expr: ratio(sumBy([], rate(METRICS.taskTokens, '_sum', base)), allTasks), legend: 'tokens' },
          ],
        },
        datasource,
      ),
    )
    .withRow(row(101, 'Outcomes'))
    .withPanel(
      timeseriesPanel(
        {
          id: 5,
          title: 'Tasks by outcome',
          description:
            'Tasks settled per second, by outcome: success, recovered (failed calls later retried successfully) and failed.',
          unit: 'reqps',
          width: 12,
          queries: [
            { expr: sumBy([LABEL.outcome], rate(METRICS.tasks, '', base)), legend: `{{${LABEL.outcome}}}` },
          ],
          links: failedTaskTraceLinks(config),
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 6,
          title: 'Retries per task',
          description: 'Tool-call retries per settled task: mean and 95th percentile.',
          unit: 'short',
          width: 12,
          queries: [
            { expr: histogramMean(METRICS.taskRetries, [], base), legend: 'mean' },
            { expr: histogramQuantile(0.95, METRICS.taskRetries, [], base), legend: 'p95' },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 7,
          title: 'Task duration by outcome',
          description:
            'p50 and p95 of task duration, by outcome; failed tasks that take long usually wait on timeouts.',
          unit: 's',
          width: 12,
          queries: [0.5, 0.95].map((q) => ({
            expr: histogramQuantile(q, METRICS.taskDuration, [LABEL.outcome], base),
            legend: `p${Math.round(q * 100)} {{${LABEL.outcome}}}`,
          })),
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 8,
          title: 'Share of tasks judged correct',
          description: 'Share of verdicts recorded on tasks that say the result was correct.',
          unit: 'percentunit',
          width: 12,
          queries: [
            {
              expr: ratio(
                sumBy(
                  [],
                  rate(METRICS.taskFeedback, '', [...base, matcher(LABEL.verdict, '=', VERDICT_CORRECT)]),
                ),
                sumBy([], rate(METRICS.taskFeedback, '', base)),
              ),
              legend: 'correct',
            },
          ],
        },
        datasource,
      ),
    )
    .withRow(row(102, 'Tokens'))
    .withPanel(
      timeseriesPanel(
        {
          id: 9,
          title: 'Tokens per task by type',
          description: 'Mean input and output tokens per settled task.',
          unit: 'short',
          width: 12,
          queries: [
            {
              expr: histogramMean(METRICS.taskTokens, [LABEL.tokenType], base),
              legend: `{{${LABEL.tokenType}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 10,
          title: 'Token usage by service and type',
          description:
            'LLM tokens per second reported by instrumented services (gen_ai.client.token.usage), by service and token type.',
          unit: 'short',
          width: 12,
          queries: [
            {
              expr: sumBy([LABEL.serviceName, LABEL.tokenType], rate(METRICS.tokenUsage, '_sum', base)),
              legend: `{{${LABEL.serviceName}}} {{${LABEL.tokenType}}}`,
            },
          ],
        },
        datasource,
      ),
    );
  return toDashboardJson(builder);
};
