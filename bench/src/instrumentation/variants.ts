/**
 * The instrumentations compared, each set up the way its documentation says, with spans going
 * nowhere beyond the process so the cost measured is the instrumentation's, not the network's.
 */
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { SdkModules, McpServer, Client } from './call-fixture.js';

export const VARIANT_IDS = [
  'uninstrumented',
  'mcpscope-server',
  'mcpscope-both',
  'sentry',
  'traceloop',
  'openinference',
] as const;
export type VariantId = (typeof VARIANT_IDS)[number];

export const VARIANT_LABELS: Record<VariantId, string> = {
  uninstrumented: 'uninstrumented (baseline)',
  'mcpscope-server': 'mcpscope, server only',
  'mcpscope-both': 'mcpscope, both sides',
  sentry: 'Sentry `wrapMcpServerWithSentry`',
  traceloop: 'Traceloop `@traceloop/instrumentation-mcp`',
  openinference: 'OpenInference `@arizeai/openinference-instrumentation-mcp`',
};

export const VARIANT_SETUPS: Record<VariantId, string> = {
  uninstrumented: 'no tracer provider, no instrumentation',
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

const installMcpscope = async (options: VariantOptions, bothSides: boolean): Promise<InstalledVariant> => {
  const provider = await registerDroppingProvider(options, true);
  const { instrumentMcp } = await import('@mcpscope/instrumentation');
  const config = { captureArguments: 'redacted' as const };
  return {
    prepareServer: (_sdk, server) => instrumentMcp(server, config),
    prepareClient: (_sdk, client) => {
      if (bothSides) instrumentMcp(client, config);
    },
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

export const installVariant = (id: VariantId, options: VariantOptions = {}): Promise<InstalledVariant> => {
  switch (id) {
    case 'uninstrumented':
      return Promise.resolve(passThrough);
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
