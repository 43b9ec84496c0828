import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_MCPSCOPE_TOOL_DESTRUCTIVE,
  ATTR_MCPSCOPE_TOOL_IDEMPOTENT,
  ATTR_MCPSCOPE_TOOL_READ_ONLY,
} from '../conventions.js';

/** A tool's behaviour hints, as `tools/list` declares them (or as the user overrides them). */
export interface ToolAnnotationHints {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
}

const MAX_TOOLS = 4096;

/** What each connection's `tools/list` said (client side: each server its own tools). */
const byConnection = new WeakMap<object, Map<string, ToolAnnotationHints>>();
/**
 * What this process answered to `tools/list` (server side): a stateless HTTP server builds one
 * server per request, so the listing and the call rarely share a connection.
 */
const answered = new Map<string, ToolAnnotationHints>();

/** Tools this process listed without annotations: nothing to learn from listing them again. */
const listedWithout = new Set<string>();
/** Connections whose registered tools were read once already. */
const consulted = new WeakSet<object>();

const hintsOf = (annotations: unknown): ToolAnnotationHints | undefined => {
  if (annotations === null || typeof annotations !== 'object') return undefined;
  const { readOnlyHint, destructiveHint, idempotentHint } = annotations as Record<string, unknown>;
  return {
    ...(typeof readOnlyHint === 'boolean' && { readOnlyHint }),
    ...(typeof destructiveHint === 'boolean' && { destructiveHint }),
    ...(typeof idempotentHint === 'boolean' && { idempotentHint }),
  };
};

/** Remembers the annotations of the tools a `tools/list` result lists, for the calls that follow. */
export const rememberToolAnnotations = (connection: object, result: unknown): void => {
  const tools = (result as { tools?: unknown } | null | undefined)?.tools;
  if (!Array.isArray(tools)) return;
  let known = byConnection.get(connection);
  if (!known) byConnection.set(connection, (known = new Map()));
  for (const tool of tools as Array<{ name?: unknown; annotations?: unknown } | null>) {
    if (typeof tool?.name !== 'string') continue;
    const hints = hintsOf(tool.annotations);
    if (hints === undefined) {
      known.delete(tool.name);
      answered.delete(tool.name);
      if (listedWithout.size >= MAX_TOOLS) listedWithout.clear();
      listedWithout.add(tool.name);
      continue;
    }
    listedWithout.delete(tool.name);
    known.set(tool.name, hints);
    if (answered.size >= MAX_TOOLS && !answered.has(tool.name)) answered.clear();
    answered.set(tool.name, hints);
  }
};

/**
 * Receiver side, a call whose tool's annotations nobody listed yet: what the server registered, read
 * once through its own `tools/list` handler (no span of ours), recorded on the call's span when known.
 */
export const learnRegisteredAnnotations = (
  connection: object,
  listTools:
    ((request: { method: string; params: Record<string, unknown> }, extra: never) => unknown) | undefined,
  extra: unknown,
  tool: string,
  record: (attributes: Attributes) => void,
  overrides: Readonly<Record<string, ToolAnnotationHints>> | undefined,
): void => {
  if (!listTools || listedWithout.has(tool) || consulted.has(connection)) return;
  consulted.add(connection);
  Promise.resolve()
    .then(() => listTools.call(undefined, { method: 'tools/list', params: {} }, extra as never))
    .then((result) => {
      rememberToolAnnotations(connection, result);
      const attributes: Attributes = {};
      addToolAnnotations(attributes, connection, 'server', tool, overrides);
      if (Object.keys(attributes).length > 0) record(attributes);
    })
    .catch(() => {
      // A server whose listing needs more than this (pagination, auth) keeps its calls unannotated.
    });
};

/**
 * `mcpscope.tool.read_only` / `destructive` / `idempotent` of a `tools/call`: from the user's override,
 * else from the annotations last listed (the connection's own, else, receiving, this process's answer).
 * The spec's defaults (not read-only, destructive, not idempotent) apply only to a tool that declares
 * annotations; a tool that declares none gets no attribute.
 */
export const addToolAnnotations = (
  attributes: Attributes,
  connection: object,
  direction: 'client' | 'server',
  tool: string,
  overrides: Readonly<Record<string, ToolAnnotationHints>> | undefined,
): void => {
  const listed =
    byConnection.get(connection)?.get(tool) ?? (direction === 'server' ? answered.get(tool) : undefined);
  const override = overrides?.[tool];
  if (listed === undefined && override === undefined) return;
  const hints = { ...listed, ...override };
  attributes[ATTR_MCPSCOPE_TOOL_READ_ONLY] = hints.readOnlyHint ?? false;
  attributes[ATTR_MCPSCOPE_TOOL_DESTRUCTIVE] = hints.destructiveHint ?? true;
  attributes[ATTR_MCPSCOPE_TOOL_IDEMPOTENT] = hints.idempotentHint ?? false;
};
