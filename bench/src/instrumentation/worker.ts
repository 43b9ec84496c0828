/**
 * One variant in one child process: `node --import tsx --expose-gc worker.ts <variant> <mode> <json>`.
 * Prints one line `BENCH_RESULT {json}` on stdout; anything else on stdout is ignored.
 */
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { callOnce, connect, createServer, loadSdk, type ArgumentsKind } from './call-fixture.js';
import {
  installV2Variant,
  installVariant,
  isV2Variant,
  VARIANT_IDS,
  type ObservedSpan,
  type V1VariantId,
  type V2VariantId,
  type VariantId,
  type VariantOptions,
} from './variants.js';
import { spreadOf } from '../support/stats.js';
import {
  BATCH_PREFIX,
  READY_PREFIX,
  RESULT_PREFIX,
  type BatchCommand,
  type WorkerMode,
  type WorkerRequest,
  type WorkerResult,
} from './worker-protocol.js';

/** With `BENCH_CPU_PROFILE=<file>`, profiles the timed calls alone (not start-up or warm-up). */
const startProfilerIfAsked = async (): Promise<{ stop(): Promise<void> } | undefined> => {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
};

const collectGarbage = (): void => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the worker with --expose-gc');
  for (let i = 0; i < 3; i += 1) gc();
};

/** A variant installed and a client connected to its server, whichever SDK line it runs on. */
interface ConnectedVariant {
  call(kind: ArgumentsKind): Promise<unknown>;
  /** Exports (drops) everything still buffered. */
  flush(): Promise<void>;
}

const connectV1 = async (
  variant: V1VariantId,
  options: VariantOptions,
  clientSdkRoot: string,
): Promise<ConnectedVariant> => {
  const installed = await installVariant(variant, options);
  const sdk = await loadSdk(clientSdkRoot);
  const server = installed.prepareServer(sdk, createServer(sdk));
  const client = await connect(sdk, server, (created) => installed.prepareClient(sdk, created));
  return { call: (kind) => callOnce(client, kind), flush: () => installed.flush() };
};

const connectV2 = async (variant: V2VariantId, options: VariantOptions): Promise<ConnectedVariant> => {
  const installed = await installV2Variant(variant, options);
  // Loaded here, not at the top: the v1 variants' processes never load SDK v2.
  const fixture = await import('./call-fixture-v2.js');
  const server = installed.prepareServer(fixture.createServerV2());
  const client = await fixture.connectV2(server, (created) => installed.prepareClient(created));
  return { call: (kind) => fixture.callOnceV2(client, kind), flush: () => installed.flush() };
};

const callMany = async (connected: ConnectedVariant, kind: ArgumentsKind, count: number): Promise<void> => {
  for (let i = 0; i < count; i += 1) await connected.call(kind);
};

/** A tools/call span, whatever the instrumentation names it. */
const isToolCallSpan = (span: ObservedSpan): boolean =>
  span.attributes['mcp.method.name'] === 'tools/call' ||
  span.name.startsWith('tools/call') ||
  span.name.endsWith('.tool');

const run = async (variant: VariantId, mode: WorkerMode, request: WorkerRequest): Promise<WorkerResult> => {
  const observed: ObservedSpan[] = [];
  const options: VariantOptions =
    mode === 'attributes' ? { observeSpans: (span) => observed.push(span) } : {};
  const connected = isV2Variant(variant)
    ? await connectV2(variant, options)
    : await connectV1(variant, options, request.clientSdkRoot);

  if (mode === 'attributes') {
    await connected.call('small');
    await connected.call('nested');
    await connected.flush();
    return { mode, toolCallSpans: observed.filter(isToolCallSpan) };
  }

  await callMany(connected, 'small', request.warmupCalls);
  await callMany(connected, 'nested', request.warmupCalls);

  if (mode === 'serve') return serveBatches(connected);

  if (mode === 'heap') {
    await connected.flush();
    collectGarbage();
    const heapBeforeBytes = process.memoryUsage().heapUsed;
    // A loaded machine may not fit every call in the budget: stop there and say how many were made.
    const stopAt = performance.now() + (request.budgetSeconds ?? Number.POSITIVE_INFINITY) * 1000;
    let calls = 0;
    while (calls < request.calls && (calls % 1000 !== 0 || performance.now() < stopAt)) {
      await connected.call(calls % 2 === 0 ? 'small' : 'nested');
      calls += 1;
    }
    await connected.flush();
    collectGarbage();
    return { mode, calls, heapBeforeBytes, heapAfterBytes: process.memoryUsage().heapUsed };
  }

  const profiler = await startProfilerIfAsked();
  // Short batches, alternating argument sizes; the median batch discards stalls from other work on the machine.
  const batchMicros: Record<ArgumentsKind, number[]> = { small: [], nested: [] };
  const batchCalls = Math.max(1, Math.floor(request.calls / request.batches));
  for (let batch = 0; batch < request.batches; batch += 1) {
    for (const kind of ['small', 'nested'] as const) {
      const started = performance.now();
      await callMany(connected, kind, batchCalls);
      batchMicros[kind].push(((performance.now() - started) * 1000) / batchCalls);
    }
  }
  await profiler?.stop();
  const microsPerCall = {
    small: spreadOf(batchMicros.small).median,
    nested: spreadOf(batchMicros.nested).median,
  };
  return { mode, microsPerCall };
};

/**
 * Warm and idle, then one batch per line on stdin (`{"kind":"small","calls":200}`), timed and
 * answered on stdout: the orchestrator alternates batches between the variants' processes, so every
 * variant's batches share the machine's moments of load with the others'.
 */
const serveBatches = async (connected: ConnectedVariant): Promise<WorkerResult> => {
  const profiler = await startProfilerIfAsked();
  process.stdout.write(`${READY_PREFIX}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    const command = JSON.parse(line) as BatchCommand;
    if (command.kind === 'stop') break;
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    await callMany(connected, command.kind, command.calls);
    const cpu = process.cpuUsage(cpuStarted);
    const micros = ((performance.now() - started) * 1000) / command.calls;
    const cpuMicros = (cpu.user + cpu.system) / command.calls;
    // Yield once per batch, outside the timed section: batch processors export here.
    await new Promise((resolve) => setImmediate(resolve));
    process.stdout.write(`${BATCH_PREFIX}${JSON.stringify({ micros, cpuMicros })}\n`);
  }
  await profiler?.stop();
  return { mode: 'serve' };
};

const main = async (): Promise<void> => {
  const [variant, mode, json] = process.argv.slice(2);
  if (!VARIANT_IDS.includes(variant as VariantId)) throw new Error(`unknown variant ${variant}`);
  if (mode !== 'timing' && mode !== 'heap' && mode !== 'attributes' && mode !== 'serve')
    throw new Error(`unknown mode ${mode}`);
  const request = JSON.parse(json ?? '{}') as WorkerRequest;
  const result = await run(variant as VariantId, mode, request);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  // Instrumentations keep timers (batch processors, Sentry flush intervals): do not wait for them.
  process.exit(0);
};

await main();
