/**
 * Attribute names and values of the OpenTelemetry MCP and GenAI semantic conventions, plus the few
 * `mcpscope.*` extensions. The npm constants for MCP are marked as moved to the GenAI conventions
 * repository (which ships no package), so the strings live here; every other package imports them
 * from this module so a rename is a compile error, never a silently empty panel.
 */

export const ATTR_MCP_METHOD_NAME = 'mcp.method.name';
export const ATTR_MCP_SESSION_ID = 'mcp.session.id';
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version';
export const ATTR_MCP_RESOURCE_URI = 'mcp.resource.uri';

export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_PROMPT_NAME = 'gen_ai.prompt.name';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments';
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';

export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id';
export const ATTR_JSONRPC_PROTOCOL_VERSION = 'jsonrpc.protocol.version';
export const ATTR_RPC_RESPONSE_STATUS_CODE = 'rpc.response.status_code';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_NETWORK_TRANSPORT = 'network.transport';
export const ATTR_NETWORK_PROTOCOL_NAME = 'network.protocol.name';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_CLIENT_ADDRESS = 'client.address';
export const ATTR_CLIENT_PORT = 'client.port';
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';

/** `mcp.method.name` of a tool call. */
export const MCP_METHOD_TOOLS_CALL = 'tools/call';
/** `gen_ai.operation.name` value for tool calls (and only for them). */
export const GEN_AI_OPERATION_EXECUTE_TOOL = 'execute_tool';
/** `error.type` when a `tools/call` result carries `isError: true`. */
export const ERROR_TYPE_TOOL_ERROR = 'tool_error';
/** `error.type` when the request did not complete in time. */
export const ERROR_TYPE_TIMEOUT = 'timeout';
/** A request its caller cancelled (`notifications/cancelled`) while the handler ran. */
export const ERROR_TYPE_CANCELLED = 'cancelled';
export const NETWORK_TRANSPORT_PIPE = 'pipe';
export const NETWORK_TRANSPORT_TCP = 'tcp';

/** Token-usage attributes other instrumentations emit, read by the collector as aliases. */
export const TOKEN_USAGE_INPUT_ALIASES = [
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  'gen_ai.usage.prompt_tokens',
  'llm.token_count.prompt',
  'llm.usage.prompt_tokens',
  'ai.usage.promptTokens',
  'ai.usage.inputTokens',
] as const;
export const TOKEN_USAGE_OUTPUT_ALIASES = [
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  'gen_ai.usage.completion_tokens',
  'llm.token_count.completion',
  'llm.usage.completion_tokens',
  'ai.usage.completionTokens',
  'ai.usage.outputTokens',
] as const;

/** The GenAI conventions' conversation (session, thread) id, which groups the runs of one conversation. */
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
/** The general conventions' session id, which OpenInference writes for its sessions too. */
export const ATTR_SESSION_ID = 'session.id';

// mcpscope extensions: only what the conventions lack.
/** HMAC-SHA256 (hex, 32 chars) of the canonical JSON of the raw arguments: retries without values. */
export const ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT = 'mcpscope.arguments.fingerprint';
/** How many values redaction replaced in this span's recorded attributes. */
export const ATTR_MCPSCOPE_REDACTED_COUNT = 'mcpscope.redaction.count';
/** Explicit agent task id; travels in W3C baggage under the same key. */
export const ATTR_MCPSCOPE_TASK_ID = 'mcpscope.task.id';
export const BAGGAGE_MCPSCOPE_TASK_ID = ATTR_MCPSCOPE_TASK_ID;
/**
 * On a span mcpscope opens with no span around it: a random id of the client or server connection
 * (one transport, in one process run) that carried it. Without an explicit task, a conversation id or
 * a root span of the application's own, the collector groups such calls by it into one task.
 */
export const ATTR_MCPSCOPE_CONNECTION_ID = 'mcpscope.connection.id';
/** Auth outcome on an auth span: `success` or `failure`. */
export const ATTR_MCPSCOPE_AUTH_OUTCOME = 'mcpscope.auth.outcome';
/** Auth reason, one of {@link AUTH_REASONS}. */
export const ATTR_MCPSCOPE_AUTH_REASON = 'mcpscope.auth.reason';
/** Which side observed the auth event: `server`, `client` or `collector`. */
export const ATTR_MCPSCOPE_AUTH_SIDE = 'mcpscope.auth.side';
/** Size in bytes of the serialized result (the result itself is never recorded). */
export const ATTR_MCPSCOPE_RESULT_SIZE = 'mcpscope.result.size';
/** Content types present in a tool result, e.g. `["text","image"]`. */
export const ATTR_MCPSCOPE_RESULT_CONTENT_TYPES = 'mcpscope.result.content_types';
/** Evaluator verdict on a task: `correct` or `incorrect`, with an optional note. */
export const ATTR_MCPSCOPE_FEEDBACK_VERDICT = 'mcpscope.feedback.verdict';
export const ATTR_MCPSCOPE_FEEDBACK_NOTE = 'mcpscope.feedback.note';

// Protocol 2026-07-28: identity in each request's `_meta`, `input_required` rounds, the tasks extension.
/** The caller's name and version (`clientInfo`), read from `_meta` (2026-07-28) or from `initialize`. */
export const ATTR_MCPSCOPE_CLIENT_NAME = 'mcpscope.client.name';
export const ATTR_MCPSCOPE_CLIENT_VERSION = 'mcpscope.client.version';
/**
 * On a caller's span: how many times the peer answered `input_required` before the call completed, what
 * it asked for (`elicitation`, `sampling`, `roots`) and how long the caller took to answer, in ms.
 */
export const ATTR_MCPSCOPE_INPUT_REQUIRED_ROUNDS = 'mcpscope.input_required.rounds';
export const ATTR_MCPSCOPE_INPUT_REQUIRED_KINDS = 'mcpscope.input_required.kinds';
export const ATTR_MCPSCOPE_INPUT_REQUIRED_WAIT_MS = 'mcpscope.input_required.wait_ms';
/**
 * On one request's span: `true` when this round ended by asking for input (`resultType: input_required`):
 * a round of a longer call, never its outcome.
 */
export const ATTR_MCPSCOPE_INPUT_REQUIRED = 'mcpscope.input_required';
/** `true` on a request that re-sends a call with the answers (`inputResponses`, `requestState`). */
export const ATTR_MCPSCOPE_CONTINUATION = 'mcpscope.input_required.continuation';
/** Event on a caller's span for each `input_required` answer. */
export const EVENT_MCPSCOPE_INPUT_REQUIRED = 'mcpscope.input_required';
/** Tasks extension (`io.modelcontextprotocol/tasks`): the task a request created or polls, and its status. */
export const ATTR_MCPSCOPE_MCP_TASK_ID = 'mcpscope.mcp_task.id';
export const ATTR_MCPSCOPE_MCP_TASK_STATUS = 'mcpscope.mcp_task.status';
/** The MCP methods of the tasks extension: polling and answering a task are never tool calls. */
export const MCP_TASK_METHODS = [
  'tasks/get',
  'tasks/update',
  'tasks/cancel',
  'tasks/result',
  'tasks/list',
] as const;
/** `_meta` keys of protocol 2026-07-28's per-request envelope. */
export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
/** Protocol revisions from this one on are stateless: `mcp.session.id` is never set for them. */
export const FIRST_STATELESS_PROTOCOL_VERSION = '2026-07-28';

/** Span name of auth events (an auth span has no MCP method). */
export const AUTH_SPAN_NAME = 'mcpscope.auth';

export const AUTH_OUTCOMES = ['success', 'failure'] as const;
export type AuthOutcome = (typeof AUTH_OUTCOMES)[number];

export const AUTH_SIDES = ['server', 'client', 'collector'] as const;
export type AuthSide = (typeof AUTH_SIDES)[number];

/**
 * The documented, closed set of auth reasons. Alerts and dashboards group by these values, so a
 * new reason is a deliberate change here, never free text from an error message.
 */
export const AUTH_REASONS = [
  'missing_token', // no credentials presented
  'invalid_token', // malformed, bad signature, unknown key, wrong issuer or audience
  'expired_token', // token past its expiry
  'insufficient_scope', // valid token, not allowed to do this (403)
  'refresh_failed', // client could not refresh its token
  'token_refreshed', // client refreshed its token (outcome success)
  'unauthorized', // a 401 answer with no finer reason
  'other',
] as const;
export type AuthReason = (typeof AUTH_REASONS)[number];

// Human checkpoints: an action awaiting approval (propose), the answer (decide), the call that executes it.
/** The checkpoint a step belongs to, or that a `tools/call` executes; unique, generated when the app gives none. */
export const ATTR_MCPSCOPE_CHECKPOINT_ID = 'mcpscope.checkpoint.id';
/** `propose` or `decide` (execution is the `tools/call` span itself). */
export const ATTR_MCPSCOPE_CHECKPOINT_STEP = 'mcpscope.checkpoint.step';
/** How the approval was asked for, one of {@link CHECKPOINT_KINDS}. */
export const ATTR_MCPSCOPE_CHECKPOINT_KIND = 'mcpscope.checkpoint.kind';
/** The answer, one of {@link CHECKPOINT_OUTCOMES}. */
export const ATTR_MCPSCOPE_CHECKPOINT_OUTCOME = 'mcpscope.checkpoint.outcome';
/** Who answered, when known (redacted like every string). */
export const ATTR_MCPSCOPE_CHECKPOINT_REVIEWER = 'mcpscope.checkpoint.reviewer';
/** Epoch ms of the proposal, on the decide span: the wait is known even when the proposal is elsewhere. */
export const ATTR_MCPSCOPE_CHECKPOINT_REQUESTED_AT = 'mcpscope.checkpoint.requested_at';
/** Epoch ms after which the proposal is void, when the app gives a deadline. */
export const ATTR_MCPSCOPE_CHECKPOINT_EXPIRES_AT = 'mcpscope.checkpoint.expires_at';
/** Fingerprint (as `mcpscope.arguments.fingerprint`) of the arguments of the action awaiting approval. */
export const ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT = 'mcpscope.checkpoint.arguments_fingerprint';
/** Version of the state the action was planned (propose) or executed (tools/call) against: `lineage:serial`, an ETag. */
export const ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION = 'mcpscope.checkpoint.state_version';
/** `form` or `url`, for an elicitation. */
export const ATTR_MCPSCOPE_CHECKPOINT_MODE = 'mcpscope.checkpoint.mode';
/** `_meta` key under which a `tools/call` names the checkpoint it executes. */
export const META_MCPSCOPE_CHECKPOINT = 'io.mcpscope/checkpoint';
/** Span name prefixes of the two checkpoint steps: `checkpoint propose {tool}`, `checkpoint decide {tool}`. */
export const CHECKPOINT_PROPOSE_SPAN = 'checkpoint propose';
export const CHECKPOINT_DECIDE_SPAN = 'checkpoint decide';

export const CHECKPOINT_STEPS = ['propose', 'decide'] as const;
export type CheckpointStep = (typeof CHECKPOINT_STEPS)[number];
export const CHECKPOINT_KINDS = ['elicitation', 'input_required', 'task_input_required', 'app'] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];
export const CHECKPOINT_OUTCOMES = ['approved', 'rejected', 'expired', 'cancelled'] as const;
export type CheckpointOutcome = (typeof CHECKPOINT_OUTCOMES)[number];

// Tool annotations (`readOnlyHint`, `destructiveHint`, `idempotentHint`) on `tools/call` spans.
/** A call is a write iff this is `false`. */
export const ATTR_MCPSCOPE_TOOL_READ_ONLY = 'mcpscope.tool.read_only';
export const ATTR_MCPSCOPE_TOOL_DESTRUCTIVE = 'mcpscope.tool.destructive';
export const ATTR_MCPSCOPE_TOOL_IDEMPOTENT = 'mcpscope.tool.idempotent';
