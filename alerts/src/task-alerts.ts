import { matcher, rangeFunction, selector, sumBy, type AlertDefinition } from './alert-definition.js';
import type { AlertsConfig } from './config.js';
import { LABEL, METRICS, TASK_OUTCOME_FAILED } from './metric-names.js';

export const taskFailureRatioAlert = (config: AlertsConfig): AlertDefinition => {
  const { window } = config.taskFailureRatio;
  const tasks = (matchers: string[]) =>
    sumBy([], rangeFunction('rate', selector(METRICS.tasks, '', matchers), window));
  return {
    name: 'McpscopeTaskFailureRatioHigh',
    group: 'mcpscope-tasks',
    severity: config.taskFailureRatio.severity,
    for: config.taskFailureRatio.for,
    measurement: `${tasks([config.mcpSelector, matcher(LABEL.outcome, '=', TASK_OUTCOME_FAILED)])} / ${tasks([config.mcpSelector])}`,
    comparator: '>',
    threshold: config.taskFailureRatio.ratio,
    summary: 'Many agent tasks end in failure.',
    description: (value) =>
      `{{ ${value} | humanizePercentage }} of agent tasks settled in the last ${window} failed ` +
      `(threshold ${config.taskFailureRatio.ratio * 100}%).`,
  };
};
