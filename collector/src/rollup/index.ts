export {
  spanFacts,
  spanFailed,
  spanKey,
  tokenCountOf,
  FEEDBACK_VERDICTS,
  TOOLS_CALL_METHOD,
} from './span-facts.js';
export type { FeedbackVerdict, SpanFacts } from './span-facts.js';
export { attemptGroup, extendTask, isTask, rollUpTask, taskIdOfTrace, TASK_OUTCOMES } from './task-rollup.js';
export type {
  Attempt,
  CallOutcome,
  RootState,
  StoredTask,
  TaskOutcome,
  TaskRollup,
  ToolCallRollup,
} from './task-rollup.js';
export { minuteOf, MINUTE_NS } from './tool-minutes.js';
export type { ToolMinuteRollup } from './tool-minutes.js';
export { bucketValue, latencyBucket, latencyBucketSql } from './latency-histogram.js';
