/**
 * A task's outcome: `failed` when its earliest root span failed or some (caller, tool, arguments)
 * group ends on a failed attempt; `recovered` when calls failed but every one was retried
 * successfully; `success` otherwise.
 */
export const TASK_OUTCOMES = ['success', 'recovered', 'failed'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

/** The task's earliest root span (other than a tool call): none, or whether it failed. */
export const ROOT_STATES = ['none', 'ok', 'failed'] as const;
export type RootState = (typeof ROOT_STATES)[number];

export const taskOutcome = ({
  rootState,
  finalAttemptFailed,
  failedCalls,
}: {
  rootState: RootState;
  finalAttemptFailed: boolean;
  failedCalls: number;
}): TaskOutcome =>
  rootState === 'failed' || finalAttemptFailed ? 'failed' : failedCalls > 0 ? 'recovered' : 'success';

/** Verdicts an evaluator or a person records on a task ("was the result correct?"). */
export const FEEDBACK_VERDICTS = ['correct', 'incorrect'] as const;
export type FeedbackVerdict = (typeof FEEDBACK_VERDICTS)[number];
