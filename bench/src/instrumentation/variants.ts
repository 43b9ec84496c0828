/**
 * The instrumentations compared, each set up the way its documentation says, with spans going
 * nowhere beyond the process so the cost measured is the instrumentation's, not the network's.
 */
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { SdkModules, McpServer, Client } from './call-fixture.js';
import type { ClientV2, McpServerV2 } from './call-fixture-v2.js';
import type { ArgumentWork } from './floor.js';

export const VARIANT_IDS = [
  'uninstrumented',
  'floor',
  'floor-arguments',
  'mcpscope-server',
  'mcpscope-both',
  'sentry',
  'traceloop',
  'openinference',
  'v2-uninstrumented',
  'v2-mcpscope-both',
] as const;
export type VariantId = (typeof VARIANT_IDS)[number];
/** The variants that run on MCP SDK v2 (`call-fixture-v2.ts`); the others run on v1. */
export type V2VariantId = Extract<VariantId, `v2-${string}`>;
export type V1VariantId = Exclude<VariantId, V2VariantId>;
export const isV2Variant = (id: VariantId): id is V2VariantId => id.startsWith('v2-');

/** Variants that add nothing to the SDK: no spans to count, no credential to leak. */
export const BARE_VARIANTS: ReadonlySet<VariantId> = new Set(['uninstrumented', 'v2-uninstrumented']);

/**
 * The run of the same round each variant's added µs and ratio are taken against: the v1 baseline for
 * v1 and for SDK v2 bare (the SDK's own cost difference), SDK v2 bare for mcpscope on v2.
 */
export const VARIANT_BASELINES: Record<VariantId, VariantId> = {
  uninstrumented: 'uninstrumented',
  floor: 'uninstrumented',
  'floor-arguments': 'uninstrumented',
  'mcpscope-server': 'uninstrumented',
  'mcpscope-both': 'uninstrumented',
  sentry: 'uninstrumented',
  traceloop: 'uninstrumented',
  openinference: 'uninstrumented',
  'v2-uninstrumented': 'uninstrumented',
  'v2-mcpscope-both': 'v2-uninstrumented',
};

/** The floor each variant is also compared with: two lean spans on the same SDK line (v1 only). */
export const FLOOR_BASELINES: Partial<Record<VariantId, VariantId>> = {
  'floor-arguments': 'floor',
  'mcpscope-server': 'floor',
  'mcpscope-both': 'floor',
  sentry: 'floor',
  traceloop: 'floor',
  openinference: 'floor',
};

export const VARIANT_LABELS: Record<VariantId, string> = {
  uninstrumented: 'uninstrumented (baseline)',
  floor: 'floor: two lean OpenTelemetry spans + `_meta` propagation',
  'floor-arguments': 'floor + argument work (fingerprint, redaction, JSON) on both sides',
  'mcpscope-server': 'mcpscope, server only',
  'mcpscope-both': 'mcpscope, both sides',
  sentry: 'Sentry `wrapMcpServerWithSentry`',
  traceloop: 'Traceloop `@traceloop/instrumentation-mcp`',
  openinference: 'OpenInference `@arizeai/openinference-instrumentation-mcp`',
  'v2-uninstrumented': 'SDK v2, uninstrumented (against v1 uninstrumented)',
  'v2-mcpscope-both': 'SDK v2, mcpscope, both sides (against SDK v2 uninstrumented)',
};

export const VARIANT_SETUPS: Record<VariantId, string> = {
  uninstrumented: 'no tracer provider, no instrumentation',
  floor:
    "written by hand in the bench (`floor.ts`): the client's `request` starts a CLIENT span and injects its context into a copy of `params._meta`, the server's `tools/call` handler extracts it and runs inside a SERVER span; no attributes, no arguments, no result; NodeTracerProvider + BatchSpanProcessor(dropping exporter). What any instrumentation that traces both sides pays at least",
  'floor-arguments':
    "the floor, plus on each side what mcpscope records of a tool call's arguments with its own pieces (`@mcpscope/instrumentation/fingerprint` and `/redaction`): the HMAC fingerprint, the redacted copy and its JSON, put on the span as attributes; nothing else. The step between the floor and mcpscope",
  'mcpscope-server':
    "`instrumentMcp(server, { captureArguments: 'redacted' })`; NodeTracerProvider with TaskIdSpanProcessor + BatchSpanProcessor(dropping exporter)",
  'mcpscope-both':
    "`instrumentMcp` on server and client, `captureArguments: 'redacted'`; NodeTracerProvider with TaskIdSpanProcessor + BatchSpanProcessor(dropping exporter)",
  sentry:
    '`Sentry.init({ dsn, tracesSampleRate: 1, transport: dropping })` first, then `wrapMcpServerWithSentry(new McpServer(...))` (server side: the wrapper has no client)',
  traceloop:
    '`registerInstrumentations({ instrumentations: [new McpInstrumentation()] })` + `manuallyInstrument({ Client, Server })` (its documented path for ESM); NodeTracerProvider + BatchSpanProcessor(dropping exporter); `traceContent` default (on)',
  openinference:
    '`new MCPInstrumentation().manuallyInstrument(...)` on the transport class in use (here `InMemoryTransport`; the docs pass the stdio/HTTP transport modules); NodeTracerProvider + BatchSpanProcessor(dropping exporter). By design it creates no spans: it only propagates context',
  'v2-uninstrumented':
    'MCP SDK v2 (`@modelcontextprotocol/server` McpServer with zod 4 schemas, `@modelcontextprotocol/client` Client in its default era, the 2025 `initialize` handshake; the same tools and arguments), no tracer provider, no instrumentation; compared with v1 uninstrumented, it shows what the SDK line itself costs',
  'v2-mcpscope-both':
    "MCP SDK v2 as above, `instrumentMcp` on server and client, `captureArguments: 'redacted'`; NodeTracerProvider with TaskIdSpanProcessor + BatchSpanProcessor(dropping exporter); compared with SDK v2 uninstrumented",
};

/** A span as the attribute count sees it. */
export interface ObservedSpan {
  name: string;
  /** `client` or `server` where the instrumentation says so. */
  kind?: string;
  attributes: Record<string, unknown>;
}

export interface VariantOptions {
  /** Record finished spans for the attribute count (off while timing). */
  observeSpans?: (span: ObservedSpan) => void;
}

export interface InstalledVariant {
  /** Wraps or instruments the server before it connects; returns the server to use. */
  prepareServer(sdk: SdkModules, server: McpServer): McpServer;
  /** Instruments the client after it was created, before calls are made. */
  prepareClient(sdk: SdkModules, client: Client): void;
  /** Exports (drops) everything still buffered. */
  flush(): Promise<void>;
}

/** The same, on SDK v2 objects. */
export interface InstalledV2Variant {
  prepareServer(server: McpServerV2): McpServerV2;
  prepareClient(client: ClientV2): void;
  flush(): Promise<void>;
}

/** OpenTelemetry's SpanKind enum, by value. */
const SPAN_KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];

const passThrough: InstalledVariant = {
  prepareServer: (_sdk, server) => server,
  prepareClient: () => {},
  flush: () => Promise.resolve(),
};

/** A NodeTracerProvider whose BatchSpanProcessor hands spans to an exporter that drops them. */
const registerDroppingProvider = async (options: VariantOptions, withTaskIds: boolean) => {
  const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
  const { ExportResultCode } = await import('@opentelemetry/core');
  const droppingExporter = {
    export(_spans: ReadableSpan[], done: (result: { code: number }) => void) {
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
  const spanProcessors: SpanProcessor[] = [];
  if (withTaskIds) {
    const { TaskIdSpanProcessor } = await import('@mcpscope/instrumentation');
    spanProcessors.push(new TaskIdSpanProcessor() as unknown as SpanProcessor);
  }
  spanProcessors.push(new BatchSpanProcessor(droppingExporter));
  const observe = options.observeSpans;
  if (observe) {
    spanProcessors.push({
      onStart() {},
      onEnd(span: ReadableSpan) {
        observe({ name: span.name, kind: SPAN_KINDS[span.kind], attributes: { ...span.attributes } });
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    });
  }
  const provider = new NodeTracerProvider({ spanProcessors });
  provider.register();
  return provider;
};

/** mcpscope's explicit entry point, for either SDK line, with arguments captured redacted. */
const startMcpscope = async (options: VariantOptions) => {
  const provider = await registerDroppingProvider(options, true);
  const { instrumentMcp } = await import('@mcpscope/instrumentation');
  const config = { captureArguments: 'redacted' as const };
  return {
    instrument: <T extends object>(serverOrClient: T): T => instrumentMcp(serverOrClient, config),
    flush: () => provider.forceFlush(),
  };
};

const installMcpscope = async (options: VariantOptions, bothSides: boolean): Promise<InstalledVariant> => {
  const mcpscope = await startMcpscope(options);
  return {
    prepareServer: (_sdk, server) => mcpscope.instrument(server),
    prepareClient: (_sdk, client) => {
      if (bothSides) mcpscope.instrument(client);
    },
    flush: mcpscope.flush,
  };
};

const installFloor = async (options: VariantOptions, withArguments: boolean): Promise<InstalledVariant> => {
  const provider = await registerDroppingProvider(options, false);
  const { traceClientRequests, traceServerToolCalls } = await import('./floor.js');
  let argumentWork: ArgumentWork | undefined;
  if (withArguments) {
    const { createArgumentsFingerprinter } = await import('@mcpscope/instrumentation/fingerprint');
    const { createRedactor } = await import('@mcpscope/instrumentation/redaction');
    const fingerprint = createArgumentsFingerprinter(undefined);
    const redactor = createRedactor({ rules: [] });
    argumentWork = (span, args) => {
      const redacted = redactor.redactValue(args);
      span.setAttributes({
        'mcpscope.arguments.fingerprint': fingerprint(args),
        'gen_ai.tool.call.arguments': JSON.stringify(redacted.value) ?? 'null',
        'mcpscope.redaction.count': redacted.count,
      });
    };
  }
  return {
    prepareServer: (_sdk, server) => traceServerToolCalls(server, argumentWork),
    prepareClient: (_sdk, client) => traceClientRequests(client, argumentWork),
    flush: () => provider.forceFlush(),
  };
};

const installSentry = async (options: VariantOptions): Promise<InstalledVariant> => {
  const Sentry = await import('@sentry/node');
  Sentry.init({
    // A syntactically valid DSN is what makes the SDK record; the transport below sends nothing.
    dsn: 'https://0123456789abcdef0123456789abcdef@127.0.0.1/1',
    tracesSampleRate: 1,
    transport: () => ({ send: () => Promise.resolve({}), flush: () => Promise.resolve(true) }),
  });
  const observe = options.observeSpans;
  if (observe) {
    Sentry.getClient()?.on('spanEnd', (span) => {
      const json = Sentry.spanToJSON(span);
      const op = json.attributes['sentry.op'];
      observe({
        name: json.name,
        kind: op === 'mcp.server' ? 'server' : undefined,
        attributes: { ...json.attributes },
      });
    });
  }
  return {
    prepareServer: (_sdk, server) => Sentry.wrapMcpServerWithSentry(server),
    prepareClient: () => {},
    flush: async () => {
      await Sentry.flush(2000);
    },
  };
};

const installTraceloop = async (options: VariantOptions): Promise<InstalledVariant> => {
  const provider = await registerDroppingProvider(options, false);
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { McpInstrumentation } = await import('@traceloop/instrumentation-mcp');
  const instrumentation = new McpInstrumentation();
  registerInstrumentations({ instrumentations: [instrumentation] });
  let patched = false;
  return {
    prepareServer: (_sdk, server) => server,
    prepareClient: (sdk) => {
      if (patched) return;
      patched = true;
      instrumentation.manuallyInstrument({ Client: sdk.client.Client, Server: sdk.lowLevelServer.Server });
    },
    flush: () => provider.forceFlush(),
  };
};

const installOpenInference = async (options: VariantOptions): Promise<InstalledVariant> => {
  const provider = await registerDroppingProvider(options, false);
  const { MCPInstrumentation } = await import('@arizeai/openinference-instrumentation-mcp');
  const instrumentation = new MCPInstrumentation();
  let patched = false;
  return {
    prepareServer: (sdk, server) => {
      if (!patched) {
        patched = true;
        // Both ends use one transport class here, so one patch covers both, as in two processes.
        const transportModule = { StdioClientTransport: sdk.inMemory.InMemoryTransport };
        instrumentation.manuallyInstrument({ clientStdioModule: transportModule as never });
      }
      return server;
    },
    prepareClient: () => {},
    flush: () => provider.forceFlush(),
  };
};

export const installVariant = (id: V1VariantId, options: VariantOptions = {}): Promise<InstalledVariant> => {
  switch (id) {
    case 'uninstrumented':
      return Promise.resolve(passThrough);
    case 'floor':
      return installFloor(options, false);
    case 'floor-arguments':
      return installFloor(options, true);
    case 'mcpscope-server':
      return installMcpscope(options, false);
    case 'mcpscope-both':
      return installMcpscope(options, true);
    case 'sentry':
      return installSentry(options);
    case 'traceloop':
      return installTraceloop(options);
    case 'openinference':
      return installOpenInference(options);
  }
};

export const installV2Variant = async (
  id: V2VariantId,
  options: VariantOptions = {},
): Promise<InstalledV2Variant> => {
  if (id === 'v2-uninstrumented')
    return { prepareServer: (server) => server, prepareClient: () => {}, flush: () => Promise.resolve() };
  const mcpscope = await startMcpscope(options);
  return {
    prepareServer: (server) => mcpscope.instrument(server),
    prepareClient: (client) => {
      mcpscope.instrument(client);
    },
    flush: mcpscope.flush,
  };
};
