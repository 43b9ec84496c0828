export {
  isPlumbingSpan,
  PLUMBING_SPAN_NAMES,
  spanFacts,
  spanKey,
  tokenCountOf,
  TOOLS_CALL_METHOD,
} from './span-facts.js';
export type { SpanFacts } from './span-facts.js';
export { isCallSpan, recordedCalls, sameCall, UNKNOWN_TOOL } from './call-pairing.js';
export { distinctModelCalls, tokenTotals } from './token-totals.js';
export { callDetailFromText, callDetailText, isMcpTaskMethod, taskErrorType } from './call-rounds.js';
export type { CallDetail } from './call-rounds.js';
export { extendTask, isTask, rollUpTask } from './task-rollup.js';
export { conversationIdOf, spanTaskHint, TASK_HINT_KINDS, taskIdOfTrace } from './task-grouping.js';
export type { TaskEvidence, TaskHintKind } from './task-grouping.js';
export type { StoredTask, TaskRollup, ToolCallRollup } from './task-rollup.js';
export { FEEDBACK_VERDICTS, ROOT_STATES, TASK_OUTCOMES, taskOutcome } from './task-outcome.js';
export type { FeedbackVerdict, RootState, TaskOutcome } from './task-outcome.js';
export { attemptGroup, byAttemptOrder, LAST_ATTEMPT_OF_GROUP_SQL } from './attempts.js';
export type { Attempt } from './attempts.js';
export {
  CALL_ERROR_TYPE_SQL,
  CALL_FAILED_SQL,
  callErrorType,
  callFailed,
  callOutcomeOf,
  FAILED_CALL,
  spanErrorType,
  spanFailed,
  UNNAMED_ERROR_TYPE,
} from './failed-call.js';
export type { CallOutcome } from './failed-call.js';
export {
  bucketStartMs,
  bucketStartMsSql,
  HOUR_MS,
  HOUR_NS,
  MINUTE_MS,
  MINUTE_NS,
  minuteFloorMs,
  minuteOf,
  msToNs,
} from './time-buckets.js';
export { exactQuantilesSql, QUANTILES, toolStatDeltas, toolSummariesFromStats } from './tool-stats.js';
export type {
  Quantile,
  StatCall,
  ToolCountDelta,
  ToolCountSum,
  ToolLatencyDelta,
  ToolLatencyRanks,
} from './tool-stats.js';
export { bucketValue, latencyBucket, latencyBucketSql } from './latency-histogram.js';
