import { learnProtocolVersion, negotiatedVersion } from './protocol-version.js';
import {
  context,
  diag,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { createArgumentsFingerprinter } from './arguments-fingerprint.js';
import {
  addCallerExecution,
  addReceiverExecution,
  addToolAnnotations,
  decideRoundCheckpoints,
  learnRegisteredAnnotations,
  markToolCall,
  proposeRoundCheckpoints,
  rememberToolAnnotations,
  stampCheckpointMeta,
  traceElicitation,
} from './checkpoints/protocol-hooks.js';
import { scrubArgumentSecrets } from './argument-secrets.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_CHECKPOINT_ID,
  ATTR_MCPSCOPE_CLIENT_NAME,
  ATTR_MCPSCOPE_MCP_TASK_ID,
  ATTR_MCPSCOPE_REDACTED_COUNT,
  ATTR_MCPSCOPE_TASK_ID,
  ATTR_MCPSCOPE_TOOL_READ_ONLY,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_SESSION_ID,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  BAGGAGE_MCPSCOPE_TASK_ID,
  ERROR_TYPE_CANCELLED,
  MCP_METHOD_TOOLS_CALL,
} from './conventions.js';
import {
  classifyHandlerError,
  classifyRequestError,
  type ErrorClassification,
} from './error-classification.js';
import {
  addClientIdentity,
  addHandlerContextAttributes,
  handlerSignal,
  isStatelessProtocol,
  type HandlerExtra,
} from './handler-context.js';
import { addImplicitTaskAttributes } from './implicit-task.js';
import {
  addRoundAttributes,
  continuationAttributes,
  isInputRequiredResult,
  isTaskMethod,
  newOutgoingCall,
  recordAnswer,
  recordRound,
  taskIdOfRequest,
  TaskOrigins,
  type OutgoingCall,
} from './protocol-rounds.js';
import { registeredHandler } from './patch-protocol.js';
import { createRedactor, type Redactor } from './redaction/index.js';
import { recordResult } from './result-attributes.js';
import {
  addMethodAttributes,
  addTransportAttributes,
  requestTarget,
  spanName,
  type McpMessage,
  type RequestTarget,
} from './request-attributes.js';
import type { McpInstrumentationConfig, McpRequestInfo } from './types.js';

/** What the instrumentation reads from an SDK `Protocol` instance (client or server). */
export interface ProtocolLike {
  transport?: unknown;
  _requestMessageId?: unknown;
  /** v2: the revision this connection negotiated (2026-07-28 or a legacy one). */
  _negotiatedProtocolVersion?: unknown;
  /** v1 and v2 servers: the `clientInfo` of a legacy `initialize`. */
  _clientVersion?: unknown;
}

export type RequestHandler = (request: McpMessage & { id?: unknown }, extra: HandlerExtra) => unknown;

const MAX_STATUS_MESSAGE = 256;
const CANCELLED: ErrorClassification = {
  errorType: ERROR_TYPE_CANCELLED,
  message: 'cancelled by the caller; no answer was sent',
};
const CANCELLED_BY_CALLER: ErrorClassification = {
  errorType: ERROR_TYPE_CANCELLED,
  message: 'cancelled by the caller',
};
const DEFAULT_MAX_ARGUMENTS_LENGTH = 4096;

const metaGetter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

const taskIdFrom = (ctx: Context): string | undefined =>
  propagation.getBaggage(ctx)?.getEntry(BAGGAGE_MCPSCOPE_TASK_ID)?.value;

/**
 * Turns MCP requests into spans. One instance per enabled instrumentation; the prototype patches look
 * it up at call time, so a disabled instrumentation costs one branch per request.
 */
export class McpTelemetry {
  readonly redactor: Redactor;
  /** The fingerprint of `mcpscope.arguments.fingerprint`; checkpoints fingerprint their actions with it. */
  readonly argumentsFingerprint: (args: unknown) => string;
  private readonly captureArguments: boolean;
  private readonly maxArgumentsLength: number;
  private readonly redactUri: (uri: string) => string;
  /** Outgoing calls by the message sent, so their `input_required` rounds stay on their span. */
  private readonly outgoingCalls = new WeakMap<object, OutgoingCall>();
  private readonly taskOrigins = new TaskOrigins();

  constructor(
    readonly tracer: () => Tracer,
    readonly config: McpInstrumentationConfig,
  ) {
    this.redactor = createRedactor({ rules: config.redactionRules ?? [] });
    this.argumentsFingerprint = createArgumentsFingerprinter(
      config.fingerprintKey ?? process.env.MCPSCOPE_FINGERPRINT_KEY,
    );
    this.captureArguments = (config.captureArguments ?? 'redacted') !== 'off';
    this.maxArgumentsLength = config.maxArgumentsLength ?? DEFAULT_MAX_ARGUMENTS_LENGTH;
    this.redactUri = (uri) => this.redactor.redactString(uri).value;
  }

  get notificationsEnabled(): boolean {
    return this.config.notifications !== false;
  }

  /** Sender side: a CLIENT span around `Protocol.request`, with trace context injected into a copy of `params._meta`. */
  traceRequest<T>(
    protocol: ProtocolLike,
    request: McpMessage,
    send: (request: McpMessage) => Promise<T>,
    /** The caller's `options.signal`: a request it aborted is cancelled, not timed out. */
    signal?: { aborted?: boolean },
    /** SDK v2 answers `input_required` with rounds of the same call: keep the call findable by its message. */
    hasRounds = false,
    /** The task it is sent on behalf of (the tasks extension's `relatedTask` option). */
    relatedTask?: unknown,
  ): Promise<T> {
    return traceElicitation(request, relatedTask, () =>
      this.traceOutgoing(protocol, request, send, true, signal, hasRounds),
    );
  }

  /** Sender side of a notification: the same CLIENT span, without a JSON-RPC id. */
  traceNotification(
    protocol: ProtocolLike,
    notification: McpMessage,
    send: (notification: McpMessage) => Promise<void>,
  ): Promise<void> {
    return this.traceOutgoing(protocol, notification, send, false);
  }

  private traceOutgoing<T>(
    protocol: ProtocolLike,
    request: McpMessage,
    send: (request: McpMessage) => Promise<T>,
    hasId: boolean,
    signal?: { aborted?: boolean },
    hasRounds = false,
  ): Promise<T> {
    let span: Span;
    let outgoing: McpMessage;
    let spanContext: Context;
    let call: OutgoingCall | undefined;
    try {
      const parent = context.active();
      const target = requestTarget(request);
      const attributes = this.startAttributes(protocol, request, target, 'client', parent);
      continuationAttributes(request, attributes);
      const executes =
        request.method === MCP_METHOD_TOOLS_CALL
          ? addCallerExecution(attributes, request, target.tool, parent)
          : undefined;
      span = this.tracer().startSpan(
        spanName(request.method, target),
        { kind: SpanKind.CLIENT, attributes, links: this.taskLinks(request) },
        parent,
      );
      spanContext = trace.setSpan(parent, span);
      outgoing = this.withTraceContext(request, spanContext);
      if (executes !== undefined) stampCheckpointMeta(outgoing, executes);
      if (hasRounds) {
        call = newOutgoingCall(span, spanContext);
        this.outgoingCalls.set(outgoing, call);
      }
      if (this.config.requestHook) this.runRequestHook(span, 'client', request.method, target);
    } catch (error) {
      diag.error('mcpscope: could not start a client span', error);
      return send(request);
    }
    const pending = context.with(spanContext, send, undefined, outgoing);
    // The SDK numbers the request synchronously inside request(): the id just taken is one below the counter.
    const requestId = protocol._requestMessageId;
    if (hasId && typeof requestId === 'number')
      span.setAttribute(ATTR_JSONRPC_REQUEST_ID, String(requestId - 1));
    return pending.then(
      (result) => {
        if (call) addRoundAttributes(call);
        this.endWithResult(protocol, span, request, result);
        return result;
      },
      (error: unknown) => {
        if (call) addRoundAttributes(call);
        // The SDK rejects an aborted request with the timeout's error code: the signal tells them apart.
        this.endWithError(
          span,
          signal?.aborted === true ? CANCELLED_BY_CALLER : classifyRequestError(error),
          request,
        );
        throw error;
      },
    );
  }

  /** The peer answered the call sent as `message` with `input_required`: one more round on its span. */
  recordInputRequired(message: object, inputRequests: unknown): void {
    try {
      const call = this.outgoingCalls.get(message);
      if (!call) return;
      recordRound(call, inputRequests);
      proposeRoundCheckpoints(call, message as McpMessage, inputRequests, call.spanContext);
    } catch (error) {
      diag.error('mcpscope: could not record an input_required round', error);
    }
  }

  /**
   * A call re-sent with the answers to its `input_required` round: no span of its own (it is the same
   * call), the call's trace context in `_meta` so the receiver's round joins it.
   */
  traceContinuation<T>(
    original: object,
    message: McpMessage,
    send: (message: McpMessage) => Promise<T>,
  ): Promise<T> {
    const call = this.outgoingCalls.get(original);
    if (!call) return send(message);
    let outgoing = message;
    try {
      recordAnswer(call);
      outgoing = this.withTraceContext(message, call.spanContext);
      const decided = decideRoundCheckpoints(call, message, call.spanContext);
      if (decided !== undefined) {
        call.span.setAttribute(ATTR_MCPSCOPE_CHECKPOINT_ID, decided);
        stampCheckpointMeta(outgoing, decided);
      }
      this.outgoingCalls.set(outgoing, call);
    } catch (error) {
      diag.error('mcpscope: could not trace a continuation', error);
    }
    return context.with(call.spanContext, send, undefined, outgoing).then((result) => {
      if (isInputRequiredResult(result)) {
        recordRound(call, result.inputRequests);
        proposeRoundCheckpoints(call, message, result.inputRequests, call.spanContext);
      }
      return result;
    });
  }

  private taskLinks(message: McpMessage): Link[] | undefined {
    return isTaskMethod(message.method) ? this.taskOrigins.linksFor(message) : undefined;
  }

  /** Receiver side: a SERVER span around a request handler, parented by the context in `params._meta`. */
  traceHandler(
    protocol: ProtocolLike,
    handler: RequestHandler,
    thisArg: unknown,
    request: Parameters<RequestHandler>[0],
    extra: Parameters<RequestHandler>[1],
  ): unknown {
    {
      let span: Span;
      let spanContext: Context;
      try {
        const ambient = context.active();
        const parent = this.parentFromMeta(request, ambient);
        const target = requestTarget(request);
        const ambientSpan = parent === ambient ? undefined : trace.getSpan(ambient);
        const links: Link[] | undefined = ambientSpan
          ? [{ context: ambientSpan.spanContext() }]
          : this.taskLinks(request);
        const attributes = this.startAttributes(protocol, request, target, 'server', parent);
        if (request.id !== undefined && request.id !== null)
          attributes[ATTR_JSONRPC_REQUEST_ID] = String(request.id);
        addHandlerContextAttributes(attributes, extra, request.params?._meta);
        if (attributes[ATTR_MCPSCOPE_CLIENT_NAME] === undefined)
          addClientIdentity(attributes, protocol._clientVersion);
        span = this.tracer().startSpan(
          spanName(request.method, target),
          { kind: SpanKind.SERVER, attributes, links },
          parent,
        );
        spanContext = trace.setSpan(parent, span);
        if (request.method === MCP_METHOD_TOOLS_CALL) {
          spanContext = markToolCall(spanContext, span, attributes);
          if (target.tool !== undefined && attributes[ATTR_MCPSCOPE_TOOL_READ_ONLY] === undefined)
            learnRegisteredAnnotations(
              protocol,
              registeredHandler(protocol, 'tools/list'),
              extra,
              target.tool,
              (known) => span.setAttributes(known),
              this.config.toolAnnotations,
            );
        }
        if (this.config.requestHook) this.runRequestHook(span, 'server', request.method, target);
      } catch (error) {
        diag.error('mcpscope: could not start a server span', error);
        return handler.call(thisArg, request, extra);
      }
      let outcome: unknown;
      try {
        outcome = context.with(spanContext, handler, thisArg, request, extra);
      } catch (error) {
        this.endWithError(span, classifyHandlerError(error), request);
        throw error;
      }
      return Promise.resolve(outcome).then(
        (result) => {
          if (handlerSignal(extra)?.aborted === true) {
            this.endWithError(span, CANCELLED);
            return result;
          }
          this.endWithResult(protocol, span, request, result);
          return result;
        },
        (error: unknown) => {
          this.endWithError(span, classifyHandlerError(error), request);
          throw error;
        },
      );
    }
  }

  /** A request nobody handles: the SDK answers Method not found before any handler runs. */
  recordUnhandledRequest(protocol: ProtocolLike, request: McpMessage & { id?: unknown }): void {
    try {
      const parent = this.parentFromMeta(request, context.active());
      const target = requestTarget(request);
      const attributes = this.startAttributes(protocol, request, target, 'server', parent);
      if (request.id !== undefined && request.id !== null)
        attributes[ATTR_JSONRPC_REQUEST_ID] = String(request.id);
      const span = this.tracer().startSpan(
        spanName(request.method, target),
        { kind: SpanKind.SERVER, attributes },
        parent,
      );
      this.endWithError(span, { errorType: '-32601', statusCode: '-32601', message: 'Method not found' });
    } catch (error) {
      diag.error('mcpscope: could not record an unhandled request', error);
    }
  }

  /** Receiver side of a notification: an instant SERVER span, so notifications are at least counted. */
  recordNotificationReceived(protocol: ProtocolLike, notification: McpMessage): void {
    try {
      const parent = this.parentFromMeta(notification, context.active());
      const target = requestTarget(notification);
      this.tracer()
        .startSpan(
          spanName(notification.method, target),
          {
            kind: SpanKind.SERVER,
            attributes: this.startAttributes(protocol, notification, target, 'server', parent),
          },
          parent,
        )
        .end();
    } catch (error) {
      diag.error('mcpscope: could not record a notification', error);
    }
  }

  private startAttributes(
    protocol: ProtocolLike,
    message: McpMessage,
    target: RequestTarget,
    direction: 'client' | 'server',
    parent: Context,
  ): Attributes {
    const attributes: Attributes = {};
    addMethodAttributes(attributes, message.method, target, this.redactUri);
    addTransportAttributes(attributes, protocol.transport, direction, negotiatedVersion(protocol));
    // Protocol 2026-07-28 is stateless: a session id must not be recorded for its exchanges.
    if (isStatelessProtocol(attributes[ATTR_MCP_PROTOCOL_VERSION])) delete attributes[ATTR_MCP_SESSION_ID];
    if (isTaskMethod(message.method)) {
      const taskId = taskIdOfRequest(message);
      if (taskId !== undefined) attributes[ATTR_MCPSCOPE_MCP_TASK_ID] = taskId;
    }
    const taskId = taskIdFrom(parent);
    if (taskId !== undefined) attributes[ATTR_MCPSCOPE_TASK_ID] = taskId;
    else addImplicitTaskAttributes(attributes, parent, protocol.transport);
    if (message.method === MCP_METHOD_TOOLS_CALL) {
      this.addArguments(attributes, message.params?.arguments);
      if (target.tool !== undefined)
        addToolAnnotations(attributes, protocol, direction, target.tool, this.config.toolAnnotations);
      if (direction === 'server') addReceiverExecution(attributes, message);
    }
    return attributes;
  }

  private addArguments(attributes: Attributes, args: unknown): void {
    attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT] = this.argumentsFingerprint(args);
    if (!this.captureArguments || args === undefined) return;
    const redacted = this.redactor.redactValue(args);
    let json = JSON.stringify(redacted.value) ?? 'null';
    if (json.length > this.maxArgumentsLength) json = `${json.slice(0, this.maxArgumentsLength)}[TRUNCATED]`;
    attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = json;
    attributes[ATTR_MCPSCOPE_REDACTED_COUNT] = redacted.count;
  }

  private parentFromMeta(message: McpMessage, ambient: Context): Context {
    const meta = message.params?._meta;
    if (!meta || typeof meta !== 'object' || typeof meta.traceparent !== 'string') {
      return ambient;
    }
    return propagation.extract(ambient, meta, metaGetter);
  }

  private withTraceContext(message: McpMessage, spanContext: Context): McpMessage {
    const meta: Record<string, unknown> = { ...(message.params?._meta ?? {}) };
    propagation.inject(spanContext, meta);
    return { ...message, params: { ...(message.params ?? {}), _meta: meta } };
  }

  private endWithResult(protocol: ProtocolLike, span: Span, request: McpMessage, result: unknown): void {
    try {
      const method = request.method;
      const value = (result ?? {}) as { protocolVersion?: unknown };
      if (method === 'initialize' && typeof value.protocolVersion === 'string') {
        learnProtocolVersion(protocol, value.protocolVersion);
      }
      if (method === 'tools/list') rememberToolAnnotations(protocol, value);
      recordResult(span, method, value, (taskId) => this.taskOrigins.remember(taskId, span.spanContext()));
    } catch (error) {
      diag.error('mcpscope: could not record a result', error);
    } finally {
      span.end();
    }
  }

  /** `request`, when given, is the call whose argument secrets must not come back through the message. */
  private endWithError(span: Span, classification: ErrorClassification, request?: McpMessage): void {
    try {
      span.setAttribute(ATTR_ERROR_TYPE, classification.errorType);
      if (classification.statusCode !== undefined) {
        span.setAttribute(ATTR_RPC_RESPONSE_STATUS_CODE, classification.statusCode);
      }
      if (classification.httpStatusCode !== undefined) {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, classification.httpStatusCode);
      }
      let message = this.redactor.redactString(classification.message).value;
      const args = request?.method === MCP_METHOD_TOOLS_CALL ? request.params?.arguments : undefined;
      // A server may echo an argument in its error ("bad password hunter2"): what the arguments'
      // redaction replaced whole is replaced in the message too. Only on errors, so calls pay nothing.
      if (args !== undefined && message !== '')
        message = scrubArgumentSecrets(message, args, this.redactor.redactValue(args).value);
      message = message.slice(0, MAX_STATUS_MESSAGE);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    } catch (error) {
      diag.error('mcpscope: could not record an error', error);
    } finally {
      span.end();
    }
  }

  private runRequestHook(
    span: Span,
    direction: McpRequestInfo['direction'],
    method: string,
    target: RequestTarget,
  ): void {
    const hook = this.config.requestHook;
    if (!hook) return;
    try {
      hook(span, { direction, method, target: target.tool ?? target.prompt });
    } catch (error) {
      diag.error('mcpscope: requestHook threw', error);
    }
  }
}
