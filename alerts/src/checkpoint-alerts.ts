import { increaseWithNewSeries, matcher, selector, sumBy, type AlertDefinition } from './alert-definition.js';
import type { AlertsConfig } from './config.js';
import { LABEL, METRICS } from './metric-names.js';

/** Human checkpoints: approvals nobody looks at, writes that skipped or bent an approval, stuck locks. */

const GROUP = 'mcpscope-checkpoints';

export const checkpointPendingTooLongAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeCheckpointPendingTooLong',
  group: GROUP,
  severity: config.checkpointPendingTooLong.severity,
  for: config.checkpointPendingTooLong.for,
  measurement: `max by (${LABEL.serviceName}) (${selector(METRICS.checkpointPendingOldest, '', [config.mcpSelector])})`,
  comparator: '>',
  threshold: config.checkpointPendingTooLong.seconds,
  summary: 'An agent has been waiting for a human approval too long; someone must look.',
  description: (value) =>
    `The oldest pending checkpoint of {{ $labels.${LABEL.serviceName} }} has waited {{ ${value} | humanize }} seconds ` +
    `(threshold ${config.checkpointPendingTooLong.seconds}s).`,
});

type WriteVerdictAlert = 'unapprovedWrite' | 'approvedArgumentsModified' | 'stalePlanApplied';

const writeVerdictAlert = (
  config: AlertsConfig,
  key: WriteVerdictAlert,
  name: AlertDefinition['name'],
  verdict: string,
  summary: string,
  what: string,
): AlertDefinition => ({
  name,
  group: GROUP,
  severity: config[key].severity,
  for: config[key].for,
  measurement: sumBy(
    [LABEL.serviceName, LABEL.tool],
    increaseWithNewSeries(
      selector(METRICS.writes, '', [config.mcpSelector, matcher(LABEL.verdict, '=', verdict)]),
      config[key].window,
    ),
  ),
  comparator: '>',
  threshold: 0,
  summary,
  description: (value) =>
    `{{ ${value} | humanize }} writes of tool {{ $labels.${LABEL.tool} }} on {{ $labels.${LABEL.serviceName} }} ` +
    `${what} in the last ${config[key].window}.`,
});

export const unapprovedWriteAlert = (config: AlertsConfig): AlertDefinition =>
  writeVerdictAlert(
    config,
    'unapprovedWrite',
    'McpscopeUnapprovedWrite',
    'unapproved',
    'A state-changing tool ran without an approved human checkpoint.',
    'ran without an approved checkpoint',
  );

export const approvedArgumentsModifiedAlert = (config: AlertsConfig): AlertDefinition =>
  writeVerdictAlert(
    config,
    'approvedArgumentsModified',
    'McpscopeApprovedArgumentsModified',
    'modified',
    'A write ran with arguments other than the ones a human approved.',
    'ran with arguments that differ from the approved ones',
  );

export const stalePlanAppliedAlert = (config: AlertsConfig): AlertDefinition =>
  writeVerdictAlert(
    config,
    'stalePlanApplied',
    'McpscopeStalePlanApplied',
    'stale',
    'An approved plan was applied to a state that changed after the proposal.',
    'ran against a state version other than the proposal had',
  );

export const orphanedDestructiveWriteAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeOrphanedDestructiveWrite',
  group: GROUP,
  severity: config.orphanedDestructiveWrite.severity,
  for: config.orphanedDestructiveWrite.for,
  measurement: sumBy(
    [LABEL.serviceName, LABEL.tool],
    increaseWithNewSeries(
      selector(METRICS.orphanedWrites, '', [config.mcpSelector, matcher(LABEL.destructive, '=', 'true')]),
      config.orphanedDestructiveWrite.window,
    ),
  ),
  comparator: '>',
  threshold: 0,
  summary: 'A destructive write finished after its caller gave up: a state lock may be stuck.',
  description: (value) =>
    `{{ ${value} | humanize }} destructive writes of tool {{ $labels.${LABEL.tool} }} on {{ $labels.${LABEL.serviceName} }} ` +
    `completed after their caller went away in the last ${config.orphanedDestructiveWrite.window}.`,
});
