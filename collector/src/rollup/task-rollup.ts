import { attemptGroup, byAttemptOrder, type Attempt } from './attempts.js';
import { callFailure, firstKnown, recordedCalls, UNKNOWN_TOOL } from './call-pairing.js';
import { callFailed, FAILED_CALL, spanFailed, UNNAMED_ERROR_TYPE, type CallOutcome } from './failed-call.js';
import { TOOLS_CALL_METHOD, type SpanFacts } from './span-facts.js';
import { tokenTotals } from './token-totals.js';
import { isMcpTaskMethod, taskCourse, type CallDetail, type TaskPoll } from './call-rounds.js';
import { taskOutcome, type RootState, type TaskOutcome } from './task-outcome.js';

/** One tool call: every span that recorded it counts once ({@link recordedCalls}), the outermost names it. */
export interface ToolCallRollup {
  taskId: string;
  traceId: string;
  spanId: string;
  /** The other spans that recorded this call (the server's, a second instrumentation's); not stored. */
  peerSpanIds: string[];
  /** Only its server's span is known yet, and that names a caller's span still to come; not stored. */
  awaitingCaller: boolean;
  service: string;
  method: string;
  tool: string;
  outcome: CallOutcome;
  errorType: string | null;
  durationMs: number;
  /** Redacted arguments as recorded on the span (JSON text), or null. */
  arguments: string | null;
  fingerprint: string | null;
  retryOf: string | null;
  startNs: bigint;
  /** Its `input_required` rounds, or the task it became and how that went; null for a plain call. */
  detail: CallDetail | null;
}

export interface TaskRollup {
  taskId: string;
  traceIds: string[];
  outcome: TaskOutcome;
  startNs: bigint;
  endNs: bigint;
  durationMs: number;
  services: string[];
  tools: string[];
  toolCalls: number;
  failedCalls: number;
  retries: number;
  inputTokens: number;
  outputTokens: number;
  authFailures: number;
  rootState: RootState;
}

const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

/** Spans that are plumbing rather than agent work: auth events and MCP requests other than tool calls. */
const isPlumbing = (span: SpanFacts): boolean =>
  span.plumbing || span.authOutcome !== null || (span.method !== null && span.method !== TOOLS_CALL_METHOD);

/**
 * Whether spans make up a task: an explicit task id, or anything beyond plumbing (a tool call, an
 * agent or LLM span). Otherwise every connection set-up (initialize, list, ping) and every token a
 * server rejected before any MCP handler ran (an auth span in a trace of its own) would be a task,
 * the latter a failed one.
 */
export const isTask = (spans: readonly SpanFacts[]): boolean =>
  spans.some((span) => span.taskId !== null || !isPlumbing(span));

/** The requests that polled or steered each MCP task (tasks extension), by task id. */
const taskPollsOf = (spans: readonly SpanFacts[]): Map<string, TaskPoll[]> => {
  const polls = new Map<string, TaskPoll[]>();
  for (const span of spans) {
    const taskId = span.callDetail?.mcpTaskId;
    if (taskId === undefined || !isMcpTaskMethod(span.method)) continue;
    const poll = { detail: span.callDetail, method: span.method, startNs: span.startNs, endNs: span.endNs };
    const known = polls.get(taskId);
    if (known) known.push(poll);
    else polls.set(taskId, [poll]);
  }
  return polls;
};

const toolCallsOf = (taskId: string, spans: readonly SpanFacts[]): ToolCallRollup[] => {
  const taskPolls = taskPollsOf(spans);
  const calls: ToolCallRollup[] = [];
  for (const recorded of recordedCalls(spans)) {
    const [span, ...peers] = recorded.spans as [SpanFacts, ...SpanFacts[]];
    const failure = callFailure(recorded);
    const call: ToolCallRollup = {
      taskId,
      traceId: span.traceId,
      spanId: span.spanId,
      peerSpanIds: peers.map((peer) => peer.spanId),
      awaitingCaller: recorded.awaitingCaller,
      service: span.serviceName,
      method: span.method ?? TOOLS_CALL_METHOD,
      tool: firstKnown(recorded, (record) => record.tool) ?? UNKNOWN_TOOL,
      outcome: failure.failed ? FAILED_CALL : 'success',
      errorType: failure.failed ? (failure.errorType ?? UNNAMED_ERROR_TYPE) : null,
      durationMs: nsToMs(span.endNs - span.startNs),
      arguments: firstKnown(recorded, (record) => record.arguments),
      fingerprint: firstKnown(recorded, (record) => record.fingerprint),
      retryOf: null,
      startNs: span.startNs,
      detail: null,
    };
    followRoundsAndTask(
      call,
      span,
      firstKnown(recorded, (record) => record.callDetail),
      taskPolls,
    );
    calls.push(call);
  }
  calls.sort(byAttemptOrder);
  return calls;
};

/**
 * A call's rounds, and a call that became a task: one logical call from its creation to the task's
 * last status seen, failed when the task failed or was cancelled or its result was a tool error.
 */
const followRoundsAndTask = (
  call: ToolCallRollup,
  span: SpanFacts,
  detail: CallDetail | null,
  taskPolls: ReadonlyMap<string, TaskPoll[]>,
): void => {
  if (detail === null) return;
  const followed: CallDetail = {};
  if (detail.inputRounds !== undefined) {
    followed.inputRounds = detail.inputRounds;
    followed.inputWaitMs = detail.inputWaitMs ?? 0;
  }
  if (detail.mcpTaskId !== undefined) {
    const course = taskCourse(detail, span.endNs, taskPolls.get(detail.mcpTaskId) ?? []);
    followed.mcpTaskId = detail.mcpTaskId;
    if (course.status !== undefined) followed.mcpTaskStatus = course.status;
    if (course.inputRequiredMs > 0)
      followed.inputWaitMs = (followed.inputWaitMs ?? 0) + course.inputRequiredMs;
    call.durationMs = nsToMs(course.lastSeenNs - span.startNs);
    if (course.errorType !== null && call.outcome !== FAILED_CALL) {
      call.outcome = FAILED_CALL;
      call.errorType = course.errorType;
    }
  }
  call.detail = Object.keys(followed).length === 0 ? null : followed;
};

/**
 * Marks retries in place and returns the last attempt of every (caller, tool, arguments) group and
 * every call without a fingerprint. `lastAttempt` may hold the groups' last attempts before `calls`.
 */
const markRetries = (calls: ToolCallRollup[], lastAttempt: Map<string, Attempt> = new Map()): Attempt[] => {
  const ungrouped: ToolCallRollup[] = [];
  for (const call of calls) {
    if (call.fingerprint === null) {
      ungrouped.push(call);
      continue;
    }
    const group = attemptGroup(call);
    const previous = lastAttempt.get(group);
    if (previous !== undefined && previous.outcome === FAILED_CALL) call.retryOf = previous.spanId;
    lastAttempt.set(group, call);
  }
  return [...lastAttempt.values(), ...ungrouped];
};

/**
 * Whether the task's earliest root span failed. A tool call without a parent (an agent that opens no
 * span of its own) is not the task's root: its failure is the call's, and a retry can recover it.
 */
const rootStateOf = (spans: readonly SpanFacts[]): RootState => {
  const roots = spans
    .filter((span) => span.parentSpanId === null && span.method !== TOOLS_CALL_METHOD && !span.plumbing)
    .sort(byAttemptOrder);
  const root = roots[0];
  return root === undefined ? 'none' : spanFailed(root) ? 'failed' : 'ok';
};

const sortedUnique = (values: Iterable<string>) => [...new Set(values)].sort();

/** Recomputes a task from all of its spans (deduplicated by the caller). */
export const rollUpTask = (
  taskId: string,
  spans: readonly SpanFacts[],
): { task: TaskRollup; calls: ToolCallRollup[] } => {
  const calls = toolCallsOf(taskId, spans);
  const finalAttempts = markRetries(calls);
  const failedCalls = calls.filter(callFailed).length;
  const retries = calls.filter((call) => call.retryOf !== null).length;
  const rootState = rootStateOf(spans);
  const outcome = taskOutcome({ rootState, finalAttemptFailed: finalAttempts.some(callFailed), failedCalls });
  let startNs = spans[0]?.startNs ?? 0n;
  let endNs = spans[0]?.endNs ?? 0n;
  for (const span of spans) {
    if (span.startNs < startNs) startNs = span.startNs;
    if (span.endNs > endNs) endNs = span.endNs;
  }
  return {
    task: {
      taskId,
      traceIds: sortedUnique(spans.map((span) => span.traceId)),
      outcome,
      startNs,
      endNs,
      durationMs: nsToMs(endNs - startNs),
      services: sortedUnique(spans.map((span) => span.serviceName)),
      tools: sortedUnique(calls.map((call) => call.tool)),
      toolCalls: calls.length,
      failedCalls,
      retries,
      ...tokenTotals(spans),
      authFailures: spans.filter((span) => span.authOutcome === 'failure').length,
      rootState,
    },
    calls,
  };
};

/** What a stored task's extension needs of it: its rollup, and its groups' last attempts. */
export interface StoredTask {
  task: TaskRollup;
  /** By {@link attemptGroup}, the last attempt of every group with a fingerprint. */
  lastAttempts: Map<string, Attempt>;
  /** Whether a call without a fingerprint (never retried, so always a final attempt) failed. */
  ungroupedFailed: boolean;
}

/**
 * The rollup of a stored task and spans of new traces that all start after its end, without its stored
 * spans: equal to {@link rollUpTask} over all of them. Later attempts only follow earlier ones, the
 * earliest root is the stored one when there is one, and tokens, counts and sets add up, since the
 * new traces share no span with the stored ones.
 */
export const extendTask = (
  stored: StoredTask,
  spans: readonly SpanFacts[],
): { task: TaskRollup; calls: ToolCallRollup[] } => {
  const before = stored.task;
  const calls = toolCallsOf(before.taskId, spans);
  const lastAttempts = new Map(stored.lastAttempts);
  const finalAttempts = markRetries(calls, lastAttempts);
  const failedCalls = before.failedCalls + calls.filter(callFailed).length;
  const retries = before.retries + calls.filter((call) => call.retryOf !== null).length;
  const rootState = before.rootState === 'none' ? rootStateOf(spans) : before.rootState;
  const outcome = taskOutcome({
    rootState,
    finalAttemptFailed: stored.ungroupedFailed || finalAttempts.some(callFailed),
    failedCalls,
  });
  let endNs = before.endNs;
  for (const span of spans) if (span.endNs > endNs) endNs = span.endNs;
  const added = tokenTotals(spans);
  return {
    task: {
      taskId: before.taskId,
      traceIds: sortedUnique([...before.traceIds, ...spans.map((span) => span.traceId)]),
      outcome,
      startNs: before.startNs,
      endNs,
      durationMs: nsToMs(endNs - before.startNs),
      services: sortedUnique([...before.services, ...spans.map((span) => span.serviceName)]),
      tools: sortedUnique([...before.tools, ...calls.map((call) => call.tool)]),
      toolCalls: before.toolCalls + calls.length,
      failedCalls,
      retries,
      inputTokens: Math.min(before.inputTokens + added.inputTokens, Number.MAX_SAFE_INTEGER),
      outputTokens: Math.min(before.outputTokens + added.outputTokens, Number.MAX_SAFE_INTEGER),
      authFailures: before.authFailures + spans.filter((span) => span.authOutcome === 'failure').length,
      rootState,
    },
    calls,
  };
};
