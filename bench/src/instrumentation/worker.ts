/**
 * One variant in one child process: `node --import tsx --expose-gc worker.ts <variant> <mode> <json>`.
 * Prints one line `BENCH_RESULT {json}` on stdout; anything else on stdout is ignored.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { callOnce, connect, createServer, loadSdk, type ArgumentsKind, type Client } from './call-fixture.js';
import { installVariant, VARIANT_IDS, type ObservedSpan, type VariantId } from './variants.js';
import { spreadOf } from '../support/stats.js';
import { RESULT_PREFIX, type WorkerMode, type WorkerRequest, type WorkerResult } from './worker-protocol.js';

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

const callMany = async (client: Client, kind: ArgumentsKind, count: number): Promise<void> => {
  for (let i = 0; i < count; i += 1) await callOnce(client, kind);
};

/** A tools/call span, whatever the instrumentation names it. */
const isToolCallSpan = (span: ObservedSpan): boolean =>
  span.attributes['mcp.method.name'] === 'tools/call' ||
  span.name.startsWith('tools/call') ||
  span.name.endsWith('.tool');

const run = async (variant: VariantId, mode: WorkerMode, request: WorkerRequest): Promise<WorkerResult> => {
  const observed: ObservedSpan[] = [];
  const installed = await installVariant(
    variant,
    mode === 'attributes' ? { observeSpans: (span) => observed.push(span) } : {},
  );
  const sdk = await loadSdk(request.clientSdkRoot);
  const server = installed.prepareServer(sdk, createServer(sdk));
  const client = await connect(sdk, server, (created) => installed.prepareClient(sdk, created));

  if (mode === 'attributes') {
    await callOnce(client, 'small');
    await callOnce(client, 'nested');
    await installed.flush();
    return { mode, toolCallSpans: observed.filter(isToolCallSpan) };
  }

  await callMany(client, 'small', request.warmupCalls);
  await callMany(client, 'nested', request.warmupCalls);

  if (mode === 'heap') {
    await installed.flush();
    collectGarbage();
    const heapBeforeBytes = process.memoryUsage().heapUsed;
    // A loaded machine may not fit every call in the budget: stop there and say how many were made.
    const stopAt = performance.now() + (request.budgetSeconds ?? Number.POSITIVE_INFINITY) * 1000;
    let calls = 0;
    while (calls < request.calls && (calls % 1000 !== 0 || performance.now() < stopAt)) {
      await callOnce(client, calls % 2 === 0 ? 'small' : 'nested');
      calls += 1;
    }
    await installed.flush();
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
      await callMany(client, kind, batchCalls);
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

const main = async (): Promise<void> => {
  const [variant, mode, json] = process.argv.slice(2);
  if (!VARIANT_IDS.includes(variant as VariantId)) throw new Error(`unknown variant ${variant}`);
  if (mode !== 'timing' && mode !== 'heap' && mode !== 'attributes') throw new Error(`unknown mode ${mode}`);
  const request = JSON.parse(json ?? '{}') as WorkerRequest;
  const result = await run(variant as VariantId, mode, request);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  // Instrumentations keep timers (batch processors, Sentry flush intervals): do not wait for them.
  process.exit(0);
};

await main();
