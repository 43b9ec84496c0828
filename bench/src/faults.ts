/**
 * What a misbehaving collector costs the server it observes: tool-call latency of an instrumented
 * McpServer and Client (in-process, the one import's exporter pipeline) against a healthy
 * receiver and against each fault endpoint the reliability tests use. Rounds are interleaved so
 * machine drift hits every endpoint alike; figures are p50/p99 per endpoint and the p99 difference
 * from the healthy run of the same round. Target: p99 within 1 ms of healthy.
 *
 * Run alone: `node --import tsx bench/src/faults.ts [--quick]`.
 */
import { pathToFileURL } from 'node:url';
import {
  FAULT_KINDS,
  startFaultEndpoint,
  type FaultKind,
} from '../../test/src/reliability/support/fault-endpoints.js';
import { startExportingPair } from '../../test/src/reliability/support/exporting-pair.js';
import { startMemoryReceiver } from '../../test/src/reliability/support/memory-receiver.js';
import { freePort } from '../../test/src/support/processes.js';
import { formatNumber, formatSpread, quantile, rotated, spreadOf } from './support/stats.js';

export interface FaultsBenchOptions {
  quick?: boolean;
  log?: (line: string) => void;
}

type EndpointKind = 'healthy' | FaultKind;
const ENDPOINTS: readonly EndpointKind[] = ['healthy', ...FAULT_KINDS];
const P99_TARGET_MS = 1;

interface RoundFigures {
  p50Ms: number;
  p99Ms: number;
  dropped: number;
  exported: number;
}

/** One endpoint, one round: warm up, then time each call of the measured run. */
const measure = async (kind: EndpointKind, warmupCalls: number, calls: number): Promise<RoundFigures> => {
  const port = await freePort();
  const endpoint =
    kind === 'healthy' ? await startMemoryReceiver(port) : await startFaultEndpoint(kind, port);
  const pair = await startExportingPair({
    endpoint: `http://127.0.0.1:${port}`,
    // The defaults of the one import: BatchSpanProcessor's own queue and delays, the exporter's timeout.
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    scheduledDelayMillis: 5_000,
    exportTimeoutMillis: 10_000,
    echoDiagnostics: false,
  });
  try {
    // Requests reach a real server through I/O; yielding to the event loop between calls lets the
    // exporter's own I/O run as it would there (an in-memory loop of promises never yields).
    const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));
    for (let index = 0; index < warmupCalls; index += 1) {
      await pair.callTool(`warm-up-${index}`);
      await yieldToEventLoop();
    }
    const latencies: number[] = [];
    for (let index = 0; index < calls; index += 1) {
      const started = performance.now();
      await pair.callTool(`measured-${index}`);
      latencies.push(performance.now() - started);
      await yieldToEventLoop();
    }
    const accounting = await pair.accounting();
    return {
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      dropped: accounting.droppedQueueFull,
      exported: accounting.exported,
    };
  } finally {
    await pair.shutDown();
    await endpoint.close();
  }
};

export const runFaultsBench = async ({ quick = false, log = () => undefined }: FaultsBenchOptions = {}) => {
  const rounds = quick ? 2 : 5;
  const warmupCalls = quick ? 300 : 1_000;
  const calls = quick ? 2_000 : 10_000;
  const figures = new Map<EndpointKind, RoundFigures[]>(ENDPOINTS.map((kind) => [kind, []]));
  const p99Deltas = new Map<EndpointKind, number[]>(ENDPOINTS.map((kind) => [kind, []]));

  for (let round = 0; round < rounds; round += 1) {
    const thisRound = new Map<EndpointKind, RoundFigures>();
    for (const kind of rotated(ENDPOINTS, round)) {
      log(`  round ${round + 1}/${rounds}: ${kind}`);
      const result = await measure(kind, warmupCalls, calls);
      thisRound.set(kind, result);
      figures.get(kind)!.push(result);
    }
    const healthy = thisRound.get('healthy')!;
    for (const kind of ENDPOINTS) p99Deltas.get(kind)!.push(thisRound.get(kind)!.p99Ms - healthy.p99Ms);
  }

  const rows = ENDPOINTS.map((kind) => {
    const perRound = figures.get(kind)!;
    const delta = spreadOf(p99Deltas.get(kind)!);
    return {
      kind,
      withinTarget: delta.median <= P99_TARGET_MS,
      line: `| ${kind} | ${formatSpread(spreadOf(perRound.map((r) => r.p50Ms * 1000)), 0, ' µs')} | ${formatSpread(
        spreadOf(perRound.map((r) => r.p99Ms * 1000)),
        0,
        ' µs',
      )} | ${kind === 'healthy' ? '—' : formatSpread(spreadOf(p99Deltas.get(kind)!.map((d) => d * 1000)), 0, ' µs')} | ${formatNumber(
        spreadOf(perRound.map((r) => r.exported)).median,
        0,
      )} | ${formatNumber(spreadOf(perRound.map((r) => r.dropped)).median, 0)} |`,
    };
  });
  const targetsMet = rows.every((row) => row.withinTarget);
  const markdown = [
    '## Faulty collector endpoints: tool-call latency of the observed server',
    '',
    `${rounds} rounds × ${calls} \`tools/call\` round trips per endpoint (after ${warmupCalls} warm-up calls), McpServer and ` +
      'Client in one process over `InMemoryTransport`, both instrumented, spans through the OTLP/gRPC exporter wrapped ' +
      'in the retrying exporter and a BatchSpanProcessor, as the one import sets them up (queue 2048, batch 512, ' +
      'delay 5 s, export timeout 10 s, retries for 20 s). ' +
      `Figures are median (min–max) over rounds. Target: p99 within ${P99_TARGET_MS} ms of the healthy endpoint.`,
    '',
    '| endpoint | p50 | p99 | p99 − healthy p99 | spans exported | spans dropped (queue full) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => row.line),
    '',
    `Target ${targetsMet ? 'met' : 'missed'}.`,
    '',
  ].join('\n');
  return { markdown, targetsMet };
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await runFaultsBench({
    quick: process.argv.includes('--quick'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(report.markdown);
  process.exit(0);
}
