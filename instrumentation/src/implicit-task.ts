import { randomUUID } from 'node:crypto';
import { propagation, trace, type Attributes, type Context } from '@opentelemetry/api';
import { ATTR_GEN_AI_CONVERSATION_ID, ATTR_MCPSCOPE_CONNECTION_ID, ATTR_SESSION_ID } from './conventions.js';

/**
 * What a span mcpscope opens with no span around it says of its task, for the collector's task rule
 * (`collector/src/rollup/task-grouping.ts`): the conversation the context names, and the connection.
 * Spans under another span need neither: their trace already groups them.
 */

/**
 * Where other libraries keep a conversation in the OpenTelemetry context. Context keys are
 * `Symbol.for(description)`, so they are read without loading those libraries.
 */
const OPENINFERENCE_SESSION = Symbol.for(`OpenInference SDK Context Key ${ATTR_SESSION_ID}`);
const TRACELOOP_CONVERSATION = Symbol.for('conversation_id');
const TRACELOOP_ASSOCIATION_PROPERTIES = Symbol.for('association_properties');
const ASSOCIATION_CONVERSATION_KEYS = ['conversation_id', 'session_id', 'thread_id'] as const;
/** Baggage entries that name a conversation, as an application or an upstream service sets them. */
const BAGGAGE_CONVERSATION_KEYS = [ATTR_GEN_AI_CONVERSATION_ID, ATTR_SESSION_ID] as const;

const idText = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/** The conversation the context names: baggage, an OpenInference session, Traceloop associations. */
export const conversationIdFrom = (parent: Context): string | undefined => {
  const baggage = propagation.getBaggage(parent);
  for (const key of BAGGAGE_CONVERSATION_KEYS) {
    const id = idText(baggage?.getEntry(key)?.value);
    if (id !== undefined) return id;
  }
  const session = idText(parent.getValue(OPENINFERENCE_SESSION));
  if (session !== undefined) return session;
  const conversation = idText(parent.getValue(TRACELOOP_CONVERSATION));
  if (conversation !== undefined) return conversation;
  const associations = parent.getValue(TRACELOOP_ASSOCIATION_PROPERTIES);
  if (associations === null || typeof associations !== 'object') return undefined;
  for (const key of ASSOCIATION_CONVERSATION_KEYS) {
    const id = idText((associations as Record<string, unknown>)[key]);
    if (id !== undefined) return id;
  }
  return undefined;
};

/** One id per transport object: a connection, in this process run. */
const connectionIds = new WeakMap<object, string>();

const connectionIdOf = (transport: unknown): string | undefined => {
  if (transport === null || typeof transport !== 'object') return undefined;
  let id = connectionIds.get(transport);
  if (id === undefined) connectionIds.set(transport, (id = randomUUID()));
  return id;
};

/** Adds the conversation and connection to a span that starts with no span around it. */
export const addImplicitTaskAttributes = (
  attributes: Attributes,
  parent: Context,
  transport: unknown,
): void => {
  if (trace.getSpanContext(parent) !== undefined) return;
  const conversation = conversationIdFrom(parent);
  if (conversation !== undefined) attributes[ATTR_GEN_AI_CONVERSATION_ID] = conversation;
  const connection = connectionIdOf(transport);
  if (connection !== undefined) attributes[ATTR_MCPSCOPE_CONNECTION_ID] = connection;
};
