/**
 * Soak (issue 7), by hand: `node --import tsx bench/src/soak.ts [--minutes=10] [--rate=N] [--out=file.md]`.
 *
 * Measures the collector's ingest capacity first (OTLP/gRPC, 16 exporters, 10 s), then sends at
 * 80% of it (or at `--rate` spans/s, skipping the measurement) for ten minutes with a paced sender,
 * sampling every 10 s the collector's RSS (from /proc), its queue depth, commit latency, rollup lag
 * (acknowledged spans not rolled up yet) and rollup time (from its own /metrics). Writes bench/SOAK.md and prints it: the samples, and whether each figure stayed
 * flat (the last third of the run against the first third after the first minute, within 20%).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { credentials, Client as GrpcClient, status as GrpcStatus } from '@grpc/grpc-js';
import { METRICS } from '@mcpscope/collector/metrics';
import { runLoad } from './collector/exporters.js';
import { buildTemplates, PayloadSource } from './collector/payloads.js';
import { benchCache, benchSrc, repoRoot } from './support/paths.js';
import { startServiceProcess } from './support/service-process.js';
import { formatNumber, spreadOf } from './support/stats.js';

type Ports = { grpcPort: number; httpPort: number };

const argument = (name: string): string | undefined =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const minutes = Number(argument('minutes') ?? 10);
const sampleSeconds = Number(argument('sample-seconds') ?? 10);
const log = (line: string) => process.stderr.write(`${line}\n`);

const dbPath = join(benchCache, 'soak', 'soak.duckdb');
mkdirSync(join(benchCache, 'soak'), { recursive: true });
for (const suffix of ['', '.wal']) rmSync(`${dbPath}${suffix}`, { force: true });

const collector = await startServiceProcess<Ports>(
  [join(benchSrc, 'collector', 'collector-process.mjs'), JSON.stringify({ dbPath, logLevel: 'warn' })],
  { cwd: repoRoot, readyTimeoutMs: 120_000 },
);
const templates = buildTemplates(40);
const source = new PayloadSource(templates);
const grpcAddress = `127.0.0.1:${collector.info.grpcPort}`;

let capacity = Number(argument('rate') ?? Number.NaN) / 0.8;
const capacitySource = Number.isFinite(capacity) ? 'from --rate' : 'measured: OTLP/gRPC, 16 exporters, 10 s';
if (!Number.isFinite(capacity)) {
  log('measuring ingest capacity (gRPC, 16 exporters, 10 s)…');
  const measured = await runLoad({
    target: { protocol: 'grpc', address: grpcAddress },
    concurrency: 16,
    durationMs: 10_000,
    warmupMs: 2000,
    source,
  });
  capacity = measured.spansPerSecond;
}
const targetRate = capacity * 0.8;
log(
  `capacity ${Math.round(capacity)} spans/s; soaking at ${Math.round(targetRate)} spans/s for ${minutes} min`,
);

/** Reads one unlabelled series (or the sum of a histogram) from the collector's exposition. */
interface MetricValues {
  queueDepth: number;
  commitSum: number;
  commitCount: number;
  rollupPending: number;
  rollupSum: number;
  rollupCount: number;
}
const metricValues = async (): Promise<MetricValues> => {
  const text = await (await fetch(`http://127.0.0.1:${collector.info.httpPort}/metrics`)).text();
  const value = (name: string) => {
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest.startsWith(' ') || rest.startsWith('{'))
        total += Number(rest.slice(rest.lastIndexOf(' ') + 1));
    }
    return total;
  };
  return {
    queueDepth: value(METRICS.queueDepth.name),
    commitSum: value(`${METRICS.commitDuration.name}_sum`),
    commitCount: value(`${METRICS.commitDuration.name}_count`),
    rollupPending: value(METRICS.rollupPending.name),
    rollupSum: value(`${METRICS.rollupDuration.name}_sum`),
    rollupCount: value(`${METRICS.rollupDuration.name}_count`),
  };
};

// Paced sender: requests leave on a fixed schedule, each on one of 16 channels, as a fleet would send.
const channels = Array.from(
  { length: 16 },
  () => new GrpcClient(grpcAddress, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
);
const requestsPerSecond = targetRate / templates[0]!.spanCount;
const counters = { sent: 0, acknowledged: 0, retryable: 0, failed: 0, inFlight: 0 };
let nextChannel = 0;
const sendOne = () => {
  const { body } = source.take();
  const channel = channels[nextChannel]!;
  nextChannel = (nextChannel + 1) % channels.length;
  counters.sent += 1;
  counters.inFlight += 1;
  channel.makeUnaryRequest(
    '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    (value: Buffer) => value,
    (value: Buffer) => value,
    body,
    { deadline: Date.now() + 30_000 },
    (error) => {
      counters.inFlight -= 1;
      if (!error) counters.acknowledged += 1;
      else if (error.code === GrpcStatus.RESOURCE_EXHAUSTED || error.code === GrpcStatus.UNAVAILABLE)
        counters.retryable += 1;
      else counters.failed += 1;
    },
  );
};
const started = performance.now();
const pacer = setInterval(() => {
  const due = Math.floor(((performance.now() - started) / 1000) * requestsPerSecond);
  while (counters.sent < due) sendOne();
}, 5);

interface Sample {
  atSeconds: number;
  /** The machine's 1-minute load average: it is shared, so every figure comes with it. */
  load: number;
  rssMb: number;
  queueDepth: number;
  commitMs: number;
  rollupPending: number;
  rollupMs: number;
  acknowledgedPerSecond: number;
  retryable: number;
}
const samples: Sample[] = [];
let previous = await metricValues();
let previousAcknowledged = 0;
const endAt = started + minutes * 60_000;
while (performance.now() < endAt) {
  await new Promise((resolve) => setTimeout(resolve, sampleSeconds * 1000));
  const current = await metricValues();
  const commits = current.commitCount - previous.commitCount;
  const rollups = current.rollupCount - previous.rollupCount;
  const sample: Sample = {
    atSeconds: Math.round((performance.now() - started) / 1000),
    load: loadavg()[0] ?? Number.NaN,
    rssMb: collector.rssBytes() / 2 ** 20,
    queueDepth: current.queueDepth,
    commitMs: commits > 0 ? ((current.commitSum - previous.commitSum) / commits) * 1000 : Number.NaN,
    rollupPending: current.rollupPending,
    rollupMs: rollups > 0 ? ((current.rollupSum - previous.rollupSum) / rollups) * 1000 : Number.NaN,
    acknowledgedPerSecond:
      ((counters.acknowledged - previousAcknowledged) * templates[0]!.spanCount) / sampleSeconds,
    retryable: counters.retryable,
  };
  previous = current;
  previousAcknowledged = counters.acknowledged;
  samples.push(sample);
  log(
    `${sample.atSeconds}s rss ${sample.rssMb.toFixed(0)} MB, queue ${sample.queueDepth}, commit ${sample.commitMs.toFixed(1)} ms, ` +
      `rollup pending ${sample.rollupPending}, rollup ${sample.rollupMs.toFixed(1)} ms, ` +
      `${Math.round(sample.acknowledgedPerSecond)} spans/s acknowledged, in flight ${counters.inFlight}`,
  );
}
clearInterval(pacer);
await new Promise((resolve) => setTimeout(resolve, 3000));
channels.forEach((channel) => channel.close());
await collector.stop();

const steady = samples.filter((sample) => sample.atSeconds > 60);
const third = Math.max(1, Math.floor(steady.length / 3));
const first = steady.slice(0, third);
const last = steady.slice(-third);
const flat = (pick: (sample: Sample) => number, slackFraction: number, slackAbsolute: number) => {
  const before = spreadOf(first.map(pick).filter(Number.isFinite)).median;
  const after = spreadOf(last.map(pick).filter(Number.isFinite)).median;
  const isFlat = !Number.isFinite(before) || after <= before * (1 + slackFraction) + slackAbsolute;
  return { before, after, isFlat };
};
const rss = flat((sample) => sample.rssMb, 0.2, 16);
const queue = flat((sample) => sample.queueDepth, 0.2, 2000);
const commit = flat((sample) => sample.commitMs, 0.2, 5);
const rollupLag = flat((sample) => sample.rollupPending, 0.2, 2000);
const rollupTime = flat((sample) => sample.rollupMs, 0.2, 5);

const lines = [
  `# Soak: ${minutes} min at 80% of measured capacity`,
  '',
  `Generated by \`node --import tsx bench/src/soak.ts\` on ${new Date().toISOString()}. ` +
    `Capacity ${formatNumber(capacity, 0)} spans/s (${capacitySource}); soak rate ${formatNumber(targetRate, 0)} spans/s; ` +
    `${counters.acknowledged} requests acknowledged, ${counters.retryable} retryable answers, ${counters.failed} failures.`,
  '',
  '| t (s) | load | RSS MB | queue depth | mean commit ms | rollup pending spans | mean rollup ms | acknowledged spans/s |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...samples.map(
    (sample) =>
      `| ${sample.atSeconds} | ${formatNumber(sample.load, 1)} | ${formatNumber(sample.rssMb, 0)} | ${sample.queueDepth} | ${formatNumber(sample.commitMs, 1)} | ${sample.rollupPending} | ${formatNumber(sample.rollupMs, 1)} | ${formatNumber(sample.acknowledgedPerSecond, 0)} |`,
  ),
  '',
  `- RSS ${rss.isFlat ? 'flat' : '**grew**'}: ${formatNumber(rss.before, 0)} → ${formatNumber(rss.after, 0)} MB (first vs last third after the first minute)`,
  `- queue depth ${queue.isFlat ? 'flat' : '**grew**'}: ${formatNumber(queue.before, 0)} → ${formatNumber(queue.after, 0)}`,
  `- commit latency ${commit.isFlat ? 'flat' : '**grew**'}: ${formatNumber(commit.before, 1)} → ${formatNumber(commit.after, 1)} ms`,
  `- rollup lag ${rollupLag.isFlat ? 'flat' : '**grew**'}: ${formatNumber(rollupLag.before, 0)} → ${formatNumber(rollupLag.after, 0)} spans pending`,
  `- rollup time ${rollupTime.isFlat ? 'flat' : '**grew**'}: ${formatNumber(rollupTime.before, 1)} → ${formatNumber(rollupTime.after, 1)} ms`,
  '',
];
const report = lines.join('\n');
writeFileSync(argument('out') ?? join(benchSrc, '..', 'SOAK.md'), report);
process.stdout.write(report);
