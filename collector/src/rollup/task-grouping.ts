import {
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_SESSION_ID,
  ATTR_MCPSCOPE_AUTH_OUTCOME,
  ATTR_MCPSCOPE_CONNECTION_ID,
  ATTR_SESSION_ID,
} from '@mcpscope/instrumentation/conventions';
import type { AttributeValue, SpanRecord } from '../model/span.js';

/**
 * The task rule: which task a trace belongs to. Strongest first:
 *
 * 1. `mcpscope.task.id` (`withTask`, or baggage from a caller): the task the application named.
 * 2. A root span of the application's own (its agent span, an HTTP request it serves): the trace.
 * 3. A conversation: `gen_ai.conversation.id`, `session.id` (OpenInference sessions), a framework's
 *    thread or session id (Traceloop association properties, LangChain/LangGraph run metadata as
 *    OpenInference records it). All traces of one conversation are one task.
 * 4. The connection a call went out (or came in) on with no span around it: `mcpscope.connection.id`,
 *    one transport in one process run. An agent with only the one import is one task per connection.
 * 5. The MCP session (`mcp.session.id`), for servers whose callers send no trace context.
 * 6. The trace itself.
 *
 * Each span offers at most one hint, the strongest it has (`spanTaskHint`, read once at ingest and
 * stored); a trace takes the strongest hint among its spans, the smallest value among equals, so the
 * answer never depends on the order spans arrive in. A task id from a hint is the hint itself
 * (`conversation:…`, `connection:…`), readable where tasks are listed.
 */
export const TASK_HINT_KINDS = ['root', 'conversation', 'connection', 'mcp-session'] as const;
export type TaskHintKind = (typeof TASK_HINT_KINDS)[number];

/** A root span that is not the application's: its trace is one call, not a run. */
const isDetachedRoot = (span: SpanRecord): boolean => {
  const attributes = span.attributes;
  // An MCP request or an auth event: the call the task is made of, never the task's boundary.
  if (attributes[ATTR_MCP_METHOD_NAME] !== undefined || attributes[ATTR_MCPSCOPE_AUTH_OUTCOME] !== undefined)
    return true;
  // An outgoing call (MCP, an LLM API, HTTP) opened with no span around it.
  if (span.kind === 'client' || span.kind === 'producer') return true;
  // Callback-based framework instrumentations never make their spans active: their root is not around
  // the run's other work (its MCP calls and model calls are traces of their own).
  if (CALLBACK_FRAMEWORK_SCOPE.test(span.scopeName)) return true;
  // A model or tool call recorded by an LLM instrumentation, whatever span kind it chose.
  return (
    LEAF_OPENINFERENCE_KINDS.has(String(attributes[OPENINFERENCE_SPAN_KIND])) ||
    LEAF_GEN_AI_OPERATIONS.has(String(attributes[ATTR_GEN_AI_OPERATION_NAME]))
  );
};

const CALLBACK_FRAMEWORK_SCOPE = /langchain|langgraph/i;
const OPENINFERENCE_SPAN_KIND = 'openinference.span.kind';
const LEAF_OPENINFERENCE_KINDS = new Set(['LLM', 'EMBEDDING', 'RETRIEVER', 'RERANKER', 'TOOL']);
const LEAF_GEN_AI_OPERATIONS = new Set([
  'chat',
  'text_completion',
  'generate_content',
  'embeddings',
  'execute_tool',
]);

/** Where producers put a conversation's id, strongest first; the first one a span carries is its id. */
const CONVERSATION_ATTRIBUTES = [
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_SESSION_ID,
  'traceloop.association.properties.conversation_id',
  'traceloop.association.properties.session_id',
  'traceloop.association.properties.thread_id',
] as const;
/** Run metadata as OpenInference's LangChain instrumentation records it (JSON); LangGraph's thread id is there. */
const OPENINFERENCE_METADATA = 'metadata';
const METADATA_CONVERSATION_KEYS = ['conversation_id', 'session_id', 'thread_id'] as const;
/** Metadata larger than this is not parsed for a thread id: ingest stays cheap for every span. */
const MAX_METADATA_CHARS = 16_384;

const idText = (value: AttributeValue | undefined): string | null => {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
};

const metadataConversationId = (metadata: AttributeValue | undefined): string | null => {
  if (typeof metadata !== 'string' || metadata.length > MAX_METADATA_CHARS || !metadata.startsWith('{'))
    return null;
  try {
    const parsed = JSON.parse(metadata) as Record<string, AttributeValue>;
    for (const key of METADATA_CONVERSATION_KEYS) {
      const id = idText(parsed[key]);
      if (id !== null) return id;
    }
  } catch {
    // Not JSON: no thread id to read.
  }
  return null;
};

/** The conversation a span says it belongs to, or null. */
export const conversationIdOf = (span: SpanRecord): string | null => {
  for (const name of CONVERSATION_ATTRIBUTES) {
    const id = idText(span.attributes[name]);
    if (id !== null) return id;
  }
  return metadataConversationId(span.attributes[OPENINFERENCE_METADATA]);
};

const hint = (kind: TaskHintKind, value?: string): string =>
  value === undefined ? kind : `${kind}:${value}`;

/** The strongest task hint a span offers below an explicit task id (see the rule above), or null. */
export const spanTaskHint = (span: SpanRecord): string | null => {
  if (span.parentSpanId === null && !isDetachedRoot(span)) return hint('root');
  const conversation = conversationIdOf(span);
  if (conversation !== null) return hint('conversation', conversation);
  const connection = idText(span.attributes[ATTR_MCPSCOPE_CONNECTION_ID]);
  if (connection !== null) return hint('connection', connection);
  const mcpSession = idText(span.attributes[ATTR_MCP_SESSION_ID]);
  if (mcpSession !== null) return hint('mcp-session', mcpSession);
  return null;
};

const hintRank = (taskHint: string): number => {
  const colon = taskHint.indexOf(':');
  const kind = colon === -1 ? taskHint : taskHint.slice(0, colon);
  const rank = TASK_HINT_KINDS.indexOf(kind as TaskHintKind);
  return rank === -1 ? TASK_HINT_KINDS.length : rank;
};

/** What the task rule reads of a span. */
export interface TaskEvidence {
  taskId: string | null;
  taskHint: string | null;
}

/** The task a trace belongs to, by the rule above, from its spans' explicit task ids and hints. */
export const taskIdOfTrace = (traceId: string, spans: readonly TaskEvidence[]): string => {
  let explicit: string | null = null;
  let strongest: string | null = null;
  for (const span of spans) {
    if (span.taskId !== null && (explicit === null || span.taskId < explicit)) explicit = span.taskId;
    const taskHint = span.taskHint;
    if (taskHint === null || hintRank(taskHint) >= TASK_HINT_KINDS.length) continue;
    if (
      strongest === null ||
      hintRank(taskHint) < hintRank(strongest) ||
      (hintRank(taskHint) === hintRank(strongest) && taskHint < strongest)
    )
      strongest = taskHint;
  }
  if (explicit !== null) return explicit;
  if (strongest === null || strongest === hint('root')) return traceId;
  return strongest;
};
