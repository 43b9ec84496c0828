import type { SpanFacts } from './span-facts.js';

/**
 * What a failed call's error type is: the `error.type` its span names, else this. A span failed when
 * its status is error or it names an error type (tool errors included). The API, the tool stats, the
 * metrics and the SQL below all read the rule from this module.
 */
export const UNNAMED_ERROR_TYPE = 'error';

export type CallOutcome = 'success' | 'error';
/** The outcome column's value for a failed call. */
export const FAILED_CALL: CallOutcome = 'error';

export const spanFailed = (facts: Pick<SpanFacts, 'statusError' | 'errorType'>): boolean =>
  facts.statusError || facts.errorType !== null;

export const callFailed = (call: { outcome: CallOutcome }): boolean => call.outcome === FAILED_CALL;

/** A call outcome as stored (any other value reads as success). */
export const callOutcomeOf = (value: unknown): CallOutcome =>
  value === FAILED_CALL ? FAILED_CALL : 'success';

/** A span's error type when it failed, null when it did not. */
export const spanErrorType = (facts: Pick<SpanFacts, 'statusError' | 'errorType'>): string | null =>
  spanFailed(facts) ? (facts.errorType ?? UNNAMED_ERROR_TYPE) : null;

/** A stored call's error type when it failed, null when it did not. */
export const callErrorType = (call: { outcome: CallOutcome; errorType: string | null }): string | null =>
  call.outcome === FAILED_CALL ? (call.errorType ?? UNNAMED_ERROR_TYPE) : null;

/** Whether a row of the `calls` table is a failed call, in DuckDB SQL. */
export const CALL_FAILED_SQL = `outcome = '${FAILED_CALL}'`;

/** {@link callErrorType} in DuckDB SQL over the `calls` table's `outcome` and `error_type`. */
export const CALL_ERROR_TYPE_SQL = `CASE WHEN ${CALL_FAILED_SQL} THEN coalesce(error_type, '${UNNAMED_ERROR_TYPE}') END`;
