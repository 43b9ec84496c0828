/**
 * Where the write path's time goes, by hand: `node --import tsx bench/src/write-path.ts [--spans=20000] [--rounds=3] [--workers=1]`.
 *
 * The same task-shaped spans (100-span OTLP requests, fresh ids every round) go through each step of
 * ingest in one process, step by step, so each cost stands alone: protobuf decoding, the collector's
 * redaction, both in the collector's worker pool (wall time, and what the main thread still pays), extracting the rollup facts, the store's ingest commit at the default group size (2,000
 * spans) and at 10,000, and the rollup of what was committed. For the commit and the rollup it reports
 * wall time and the time the JavaScript thread was busy (event-loop utilisation): the appender runs on
 * that thread, DuckDB's own work on its threads. Variants alternate round by round; figures are
 * median (min–max) over rounds of µs per span, and the spans/s each step alone would allow.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRedactor } from '@mcpscope/instrumentation/redaction';
import { DuckDbStore } from '@mcpscope/collector';
import type { SpanRecord } from '../../collector/src/model/span.js';
import { decodeTraceRequestProtobuf, resolveOtlpLimits } from '../../collector/src/otlp/index.js';
import { PreparePool } from '../../collector/src/prepare/index.js';
import { redactSpans } from '../../collector/src/redact/index.js';
import { spanFacts } from '../../collector/src/rollup/index.js';
import { buildTemplates, PayloadSource, SPANS_PER_REQUEST } from './collector/payloads.js';
import { formatNumber, formatSpread, rotated, spreadOf } from './support/stats.js';

const argument = (name: string): string | undefined =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const spanCount = Number(argument('spans') ?? 20_000);
const rounds = Number(argument('rounds') ?? 3);
const GROUP_SIZES = [2_000, 10_000] as const;

const loadAtStart = loadavg()[0] ?? Number.NaN;
const samples = new Map<string, number[]>();
const record = (step: string, microsPerSpan: number) => {
  const list = samples.get(step) ?? [];
  list.push(microsPerSpan);
  samples.set(step, list);
};

/** Runs `work` and returns wall and JavaScript-thread busy milliseconds. */
const timed = async (work: () => Promise<void> | void): Promise<{ wallMs: number; busyMs: number }> => {
  const eluBefore = performance.eventLoopUtilization();
  const started = performance.now();
  await work();
  const wallMs = performance.now() - started;
  const elu = performance.eventLoopUtilization(eluBefore);
  // The loop's idle time is time spent waiting in poll (DuckDB working on its own threads); the rest of
  // the wall time the JavaScript thread was at work.
  return { wallMs, busyMs: wallMs - elu.idle };
};

const templates = buildTemplates(Math.max(1, Math.ceil(spanCount / SPANS_PER_REQUEST)));
const source = new PayloadSource(templates);
const redactor = createRedactor();
const limits = resolveOtlpLimits();
const pool = new PreparePool({
  redaction: { rules: [], maxStringLength: limits.maxDecompressedBytes },
  size: Number(argument('workers') ?? 1),
  // Every request of a round is handed over at once: the line must hold them all.
  maxWaiting: templates.length,
});

const storeRun = async (spans: readonly SpanRecord[], groupSize: number): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpscope-write-path-'));
  const store = await DuckDbStore.open({
    path: join(dir, 'mcpscope.duckdb'),
    rollupIntervalMs: 3_600_000,
    rollupBatchSpans: Number.MAX_SAFE_INTEGER,
  });
  try {
    const commit = await timed(async () => {
      for (let at = 0; at < spans.length; at += groupSize)
        await store.commit(spans.slice(at, at + groupSize));
    });
    record(
      `commit, ${groupSize.toLocaleString('en-US')} spans per group (wall)`,
      (commit.wallMs * 1000) / spans.length,
    );
    record(
      `commit, ${groupSize.toLocaleString('en-US')} spans per group (JS thread)`,
      (commit.busyMs * 1000) / spans.length,
    );
    const rollup = await timed(() => store.flushRollups());
    record(
      `rollup after groups of ${groupSize.toLocaleString('en-US')} (wall)`,
      (rollup.wallMs * 1000) / spans.length,
    );
    record(
      `rollup after groups of ${groupSize.toLocaleString('en-US')} (JS thread)`,
      (rollup.busyMs * 1000) / spans.length,
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

for (let round = 0; round < rounds; round++) {
  const bodies = templates.map(() => source.take().body);
  let decoded: SpanRecord[] = [];
  const decode = await timed(() => {
    decoded = bodies.flatMap((body) => decodeTraceRequestProtobuf(body).spans);
  });
  record('decode (protobuf to spans)', (decode.wallMs * 1000) / decoded.length);
  let redacted: SpanRecord[] = [];
  const redact = await timed(() => {
    redacted = redactSpans(decoded, redactor).spans;
  });
  record('redact (collector pass)', (redact.wallMs * 1000) / decoded.length);
  // The same requests through the worker pool: what the main thread still pays per span is taking
  // the prepared spans back (structured clone), the wall time is the pool's throughput.
  const pooled = await timed(async () => {
    await Promise.all(bodies.map((body) => pool.prepare(body, 'protobuf', limits)));
  });
  record(`decode + redact in ${pool.size} worker(s) (wall)`, (pooled.wallMs * 1000) / decoded.length);
  record(`decode + redact in ${pool.size} worker(s) (main thread)`, (pooled.busyMs * 1000) / decoded.length);
  const facts = await timed(() => {
    for (const span of redacted) spanFacts(span);
  });
  record('rollup facts (spanFacts)', (facts.wallMs * 1000) / decoded.length);
  for (const groupSize of rotated(GROUP_SIZES, round)) {
    // Each variant gets the same spans with ids of its own: stores are separate, so no duplicates.
    await storeRun(redacted, groupSize);
  }
  process.stdout.write(`round ${round + 1}/${rounds} done\n`);
}

const order = [
  'decode (protobuf to spans)',
  'redact (collector pass)',
  `decode + redact in ${pool.size} worker(s) (wall)`,
  `decode + redact in ${pool.size} worker(s) (main thread)`,
  'rollup facts (spanFacts)',
  ...GROUP_SIZES.flatMap((size) => {
    const label = size.toLocaleString('en-US');
    return [
      `commit, ${label} spans per group (wall)`,
      `commit, ${label} spans per group (JS thread)`,
      `rollup after groups of ${label} (wall)`,
      `rollup after groups of ${label} (JS thread)`,
    ];
  }),
];
const lines = [
  `write path, ${spanCount.toLocaleString('en-US')} spans per round, ${rounds} rounds, µs per span: median (min–max)`,
  `load average (1 min) ${formatNumber(loadAtStart, 2)} at start, ${formatNumber(loadavg()[0] ?? Number.NaN, 2)} at end`,
  '',
  '| step | µs per span | spans/s alone (median) |',
  '| --- | --- | --- |',
  ...order.map((step) => {
    const spread = spreadOf(samples.get(step) ?? []);
    return `| ${step} | ${formatSpread(spread, 2)} | ${formatNumber(1e6 / spread.median, 0)} |`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
await pool.close();
