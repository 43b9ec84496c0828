import type { CallOutcome } from './failed-call.js';

/**
 * Attempts and retries: calls with the same caller, tool and arguments fingerprint form a group,
 * ordered by start time then span id; a call retries the group's previous attempt when that one
 * failed, and a group's last attempt is the one that counts for the task's outcome. A call without a
 * fingerprint is a group of its own. TypeScript and SQL read the grouping and the order from here.
 */
export interface Attempt {
  spanId: string;
  outcome: CallOutcome;
}

export const attemptGroup = (call: { service: string; tool: string; fingerprint: string | null }): string =>
  `${call.service}\u0000${call.tool}\u0000${call.fingerprint ?? ''}`;

/** The order of attempts: by start, then by span id (compared as the database compares text). */
export const byAttemptOrder = (
  a: { startNs: bigint; spanId: string },
  b: { startNs: bigint; spanId: string },
): number =>
  a.startNs < b.startNs
    ? -1
    : a.startNs > b.startNs
      ? 1
      : a.spanId < b.spanId
        ? -1
        : a.spanId > b.spanId
          ? 1
          : 0;

/** In DuckDB SQL over the `calls` table: true on the last attempt of its group within a task. */
export const LAST_ATTEMPT_OF_GROUP_SQL =
  'row_number() OVER (PARTITION BY task_id, service, tool, fingerprint ORDER BY start_ns DESC, span_id DESC) = 1';
