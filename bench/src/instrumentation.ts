/**
 * Instrumentation overhead: the same MCP server and client, the same calls, each variant in its
 * own child process per round (patches never leak between variants), rounds interleaved so machine
 * drift hits every variant alike. Figures are ratios to the uninstrumented run of the same round
 * (for MCP SDK v2 with mcpscope, to the uninstrumented SDK v2 run of the same round).
 *
 * Run alone: `node --import tsx bench/src/instrumentation.ts [--quick]` (after `npm run build`).
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startBatchWorker, type BatchTiming, type BatchWorker } from './instrumentation/batch-workers.js';
import { measureColdStart, renderColdStart, type ColdStartFigures } from './instrumentation/cold-start.js';
import {
  NESTED_SECRET,
  nestedArguments,
  smallArguments,
  type ArgumentsKind,
} from './instrumentation/call-fixture.js';
import { ensureClientSdkCopy } from './instrumentation/client-sdk-copy.js';
import {
  BARE_VARIANTS,
  FLOOR_BASELINES,
  VARIANT_BASELINES,
  VARIANT_IDS,
  VARIANT_LABELS,
  VARIANT_SETUPS,
  type VariantId,
} from './instrumentation/variants.js';
import {
  RESULT_PREFIX,
  type AttributesResult,
  type HeapResult,
  type TimingResult,
  type WorkerMode,
  type WorkerResult,
} from './instrumentation/worker-protocol.js';
import { failureSummary, runChild } from './support/child-process.js';
import { summariseProfile, type ProfileSummary } from './support/cpu-profile.js';
import { benchCache, benchSrc, repoRoot } from './support/paths.js';
import { formatNumber, formatSpread, quantile, rotated, spreadOf, type Spread } from './support/stats.js';

export interface InstrumentationBenchOptions {
  quick?: boolean;
  /** Timed rounds only, and the cold start: no heap, attribute or profile runs (`--timing-only`). */
  timingOnly?: boolean;
  /** Overrides the rounds of the chosen settings (`--rounds=N`). */
  rounds?: number;
  log?: (line: string) => void;
}

interface Settings {
  rounds: number;
  warmupCalls: number;
  /** Profile run only: calls per argument size, in this many batches. */
  callsPerRound: number;
  batches: number;
  /** Timed batches per variant and argument size in one round, alternating between the variants. */
  interleavedBatches: number;
  batchCalls: number;
  heapCalls: number;
  heapBudgetSeconds: number;
  coldStartPairs: number;
}

const settingsFor = (quick: boolean): Settings =>
  quick
    ? {
        rounds: 3,
        warmupCalls: 300,
        callsPerRound: 1000,
        batches: 5,
        interleavedBatches: 60,
        batchCalls: 20,
        heapCalls: 5_000,
        heapBudgetSeconds: 5,
        coldStartPairs: 3,
      }
    : {
        rounds: 5,
        warmupCalls: 300,
        callsPerRound: 1500,
        batches: 10,
        interleavedBatches: 100,
        batchCalls: 30,
        heapCalls: 100_000,
        heapBudgetSeconds: 35,
        coldStartPairs: 10,
      };

const SEMCONV_PATTERN = /^(mcp\.|gen_ai\.|jsonrpc\.|rpc\.|network\.|server\.)|^error\.type$/;

interface VariantFigures {
  id: VariantId;
  error?: string;
  micros: Record<'small' | 'nested', number[]>;
  ratios: Record<'small' | 'nested', number[]>;
  /** Against the floor (two lean spans) of the same round and SDK line. */
  floorRatios: Record<'small' | 'nested', number[]>;
  /** The same three on the worker's CPU time instead of wall time. */
  cpu: Pick<VariantFigures, 'micros' | 'ratios' | 'floorRatios'>;
  heapGrowthBytes?: number;
  heapCalls?: number;
  heapError?: string;
  toolCallSpans?: AttributesResult['toolCallSpans'];
  attributesError?: string;
}

export interface InstrumentationReport {
  markdown: string;
  targetsMet: boolean;
}

const workerPath = join(benchSrc, 'instrumentation', 'worker.ts');

const runWorker = async (
  variant: VariantId,
  mode: WorkerMode,
  request: Record<string, unknown>,
  profilePath?: string,
): Promise<WorkerResult | { error: string }> => {
  const env: NodeJS.ProcessEnv = { ...process.env, OTEL_SDK_DISABLED: undefined };
  if (profilePath) env.BENCH_CPU_PROFILE = profilePath;
  const outcome = await runChild(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', workerPath, variant, mode, JSON.stringify(request)],
    { cwd: repoRoot, env, timeoutMs: 10 * 60_000 },
  );
  const line = outcome.stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
  if (outcome.code !== 0 || !line) return { error: failureSummary(outcome) };
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as WorkerResult;
};

/** Attribute names the OpenTelemetry conventions define, from mcpscope's conventions module. */
const loadConventionNames = async (): Promise<Set<string>> => {
  try {
    const conventions = (await import('@mcpscope/instrumentation/conventions')) as Record<string, unknown>;
    return new Set(
      Object.entries(conventions)
        .filter(
          ([name, value]) =>
            name.startsWith('ATTR_') && !name.startsWith('ATTR_MCPSCOPE') && typeof value === 'string',
        )
        .map(([, value]) => value as string),
    );
  } catch {
    return new Set();
  }
};

const semconvKeys = (attributes: Record<string, unknown>): string[] =>
  Object.keys(attributes)
    .filter((key) => SEMCONV_PATTERN.test(key))
    .sort();

const ratioCell = (spread: Spread): string => formatSpread(spread, 2, '×');

/** Wall time per call, or the worker's CPU time per call (what other work on the machine adds little to). */
type Clock = 'wall' | 'cpu';
const CLOCK_FIELDS = { wall: 'micros', cpu: 'cpuMicros' } as const satisfies Record<Clock, keyof BatchTiming>;

/** The batch kept per variant, argument size and round: a low percentile, what the machine's load spared. */
const KEPT_BATCH_QUANTILE = 0.1;

/**
 * One round: a fresh warm worker per variant, all alive at once, then timed batches alternating
 * between them (the order rotated per batch). Returns µs per call at the kept batch quantile.
 */
const interleavedRound = async (
  variants: readonly VariantId[],
  request: Record<string, unknown>,
  settings: Settings,
  onFailure: (variant: VariantId, error: string) => void,
): Promise<Record<Clock, Map<VariantId, TimingResult['microsPerCall']>>> => {
  const env: NodeJS.ProcessEnv = { ...process.env, OTEL_SDK_DISABLED: undefined };
  const workers = new Map<VariantId, BatchWorker>();
  // Started one after another: start-up is heavy, and the machine is shared.
  for (const variant of variants) {
    try {
      workers.set(
        variant,
        await startBatchWorker(
          ['--import', 'tsx', '--expose-gc', workerPath, variant, 'serve', JSON.stringify(request)],
          { cwd: repoRoot, env },
        ),
      );
    } catch (error) {
      onFailure(variant, (error as Error).message);
    }
  }
  const batches = new Map<VariantId, Record<ArgumentsKind, BatchTiming[]>>(
    [...workers.keys()].map((variant) => [variant, { small: [], nested: [] }]),
  );
  for (let batch = 0; batch < settings.interleavedBatches; batch += 1) {
    for (const kind of ['small', 'nested'] as const) {
      for (const variant of rotated([...workers.keys()], batch)) {
        try {
          batches.get(variant)![kind].push(await workers.get(variant)!.batch(kind, settings.batchCalls));
        } catch (error) {
          onFailure(variant, (error as Error).message);
          workers.delete(variant);
          batches.delete(variant);
        }
      }
    }
  }
  await Promise.all([...workers.values()].map((worker) => worker.stop()));
  const kept = (clock: Clock) =>
    new Map(
      [...batches].map(([variant, timings]) => [
        variant,
        {
          small: quantile(
            timings.small.map((timing) => timing[CLOCK_FIELDS[clock]]),
            KEPT_BATCH_QUANTILE,
          ),
          nested: quantile(
            timings.nested.map((timing) => timing[CLOCK_FIELDS[clock]]),
            KEPT_BATCH_QUANTILE,
          ),
        },
      ]),
    );
  return { wall: kept('wall'), cpu: kept('cpu') };
};

export const runInstrumentationBench = async (
  options: InstrumentationBenchOptions = {},
): Promise<InstrumentationReport> => {
  const settings = settingsFor(options.quick ?? false);
  if (options.rounds !== undefined) settings.rounds = options.rounds;
  const log = options.log ?? (() => {});
  const clientSdkRoot = ensureClientSdkCopy();
  const figures = new Map<VariantId, VariantFigures>(
    VARIANT_IDS.map((id) => [
      id,
      {
        id,
        micros: { small: [], nested: [] },
        ratios: { small: [], nested: [] },
        floorRatios: { small: [], nested: [] },
        cpu: {
          micros: { small: [], nested: [] },
          ratios: { small: [], nested: [] },
          floorRatios: { small: [], nested: [] },
        },
      },
    ]),
  );
  const request = {
    clientSdkRoot,
    warmupCalls: settings.warmupCalls,
    calls: settings.callsPerRound,
    batches: settings.batches,
  };

  const loads: string[] = [];
  for (let round = 0; round < settings.rounds; round += 1) {
    const timings = await interleavedRound(
      VARIANT_IDS.filter((variant) => !figures.get(variant)!.error),
      request,
      settings,
      (variant, error) => {
        figures.get(variant)!.error = error;
        log(`  ${variant}: failed: ${error}`);
      },
    );
    loads.push(loadavg()[0]!.toFixed(2));
    for (const clock of ['wall', 'cpu'] as const) {
      const roundMicros = timings[clock];
      for (const [variant, micros] of roundMicros) {
        const figure = clock === 'wall' ? figures.get(variant)! : figures.get(variant)!.cpu;
        const baseline = roundMicros.get(VARIANT_BASELINES[variant]);
        const floorId = FLOOR_BASELINES[variant];
        const floor = floorId === undefined ? undefined : roundMicros.get(floorId);
        for (const kind of ['small', 'nested'] as const) {
          figure.micros[kind].push(micros[kind]);
          if (baseline) figure.ratios[kind].push(micros[kind] / baseline[kind]);
          if (floor) figure.floorRatios[kind].push(micros[kind] / floor[kind]);
        }
      }
    }
    log(
      `  round ${round + 1}/${settings.rounds} (load ${loads.at(-1)}): ` +
        [...timings.wall]
          .map(
            ([variant, micros]) =>
              `${variant} ${micros.small.toFixed(0)}/${micros.nested.toFixed(0)} µs (CPU ${timings.cpu.get(variant)?.small.toFixed(0)}/${timings.cpu.get(variant)?.nested.toFixed(0)})`,
          )
          .join(', '),
    );
  }

  for (const variant of options.timingOnly ? [] : VARIANT_IDS) {
    const figure = figures.get(variant)!;
    const attributes = await runWorker(variant, 'attributes', request);
    if ('error' in attributes) figure.attributesError = attributes.error;
    else figure.toolCallSpans = (attributes as AttributesResult).toolCallSpans;
    if (figure.error) continue;
    const heap = await runWorker(variant, 'heap', {
      ...request,
      calls: settings.heapCalls,
      budgetSeconds: settings.heapBudgetSeconds,
    });
    if ('error' in heap) figure.heapError = heap.error;
    else {
      const { heapAfterBytes, heapBeforeBytes, calls } = heap as HeapResult;
      figure.heapGrowthBytes = heapAfterBytes - heapBeforeBytes;
      figure.heapCalls = calls;
    }
    log(`  ${variant}: heap and attributes measured`);
  }

  if (options.timingOnly) {
    for (const figure of figures.values()) {
      figure.heapError = 'not measured (timing-only run)';
      figure.attributesError = 'not measured (timing-only run)';
    }
  }
  const profile = options.timingOnly
    ? { error: 'not measured (timing-only run)' }
    : await profileVariant('mcpscope-both', request, log);
  const coldStart = await measureColdStart(settings.coldStartPairs);
  log(`  cold start: ${coldStart.pairs} pairs per entry format`);

  const conventionNames = await loadConventionNames();
  return {
    markdown: renderReport(settings, figures, coldStart, conventionNames, loads) + renderProfile(profile),
    targetsMet: targetsMet(figures),
  };
};

/** Where mcpscope's time goes on the calls themselves: a V8 profile of the timed section only. */
const profileVariant = async (
  variant: VariantId,
  request: Record<string, unknown>,
  log: (line: string) => void,
): Promise<ProfileSummary | { error: string }> => {
  const dir = join(benchCache, 'profiles');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `instrumentation-${variant}.cpuprofile`);
  const result = await runWorker(variant, 'timing', request, file);
  if ('error' in result) return { error: result.error };
  log(`  profiled ${variant}: ${file}`);
  return summariseProfile(file, 15);
};

const renderProfile = (profile: ProfileSummary | { error: string }): string => {
  const lines = ['', '### Where the overhead goes (profile of mcpscope on both sides)', ''];
  if ('error' in profile) return [...lines, `Profiling failed: ${profile.error}`, ''].join('\n');
  const busy = profile.totalMs - profile.idleMs;
  lines.push(
    `V8 CPU profile of the timed calls alone (one child, mcpscope on both sides, both argument sizes; ${profile.file.replace(repoRoot, '')}): ` +
      `main thread busy ${formatNumber(busy, 0)} ms of ${formatNumber(profile.totalMs, 0)} ms. The server, the client and the SDK's own work (zod validation, JSON-RPC) share this thread with mcpscope's.`,
  );
  lines.push('');
  lines.push('| self time by area | ms | share of busy |');
  lines.push('| --- | --- | --- |');
  for (const area of profile.areas)
    lines.push(`| ${area.area} | ${formatNumber(area.selfMs, 0)} | ${formatNumber(100 * area.share, 1)}% |`);
  lines.push('');
  lines.push('| function (self time) | where | ms | share of busy |');
  lines.push('| --- | --- | --- | --- |');
  for (const fn of profile.functions) {
    const name = fn.name.length > 80 ? `${fn.name.slice(0, 80)}…` : fn.name;
    lines.push(
      `| \`${name.replace(/\|/g, '\\|').replace(/`/g, "'")}\` | ${fn.location || '—'} | ${formatNumber(fn.selfMs, 0)} | ${formatNumber(100 * fn.share, 1)}% |`,
    );
  }
  lines.push('');
  return lines.join('\n');
};

const medianOf = (values: number[]): number => spreadOf(values).median;

/** Added µs per call, median over rounds of (variant − baseline of the same round). */
const addedMicros = (figure: VariantFigures, baseline: VariantFigures, kind: 'small' | 'nested'): Spread => {
  const added = figure.micros[kind].map(
    (value, index) => value - (baseline.micros[kind][index] ?? Number.NaN),
  );
  return spreadOf(added.filter(Number.isFinite));
};

/** The targets against the floor: mcpscope on both sides ≤ 1.10× (small) and ≤ 1.25× (nested) of it. */
const FLOOR_TARGETS = { small: 1.1, nested: 1.25 } as const;

interface TargetCheck {
  met: boolean;
  text: string;
}

const floorTargetChecks = (figures: Map<VariantId, VariantFigures>): TargetCheck[] => {
  const ours = figures.get('mcpscope-both')!;
  const serverOnly = figures.get('mcpscope-server')!;
  const traceloop = figures.get('traceloop')!;
  const checks: TargetCheck[] = [];
  for (const kind of ['small', 'nested'] as const) {
    const ratio = medianOf(ours.floorRatios[kind]);
    checks.push({
      met: !ours.error && ratio <= FLOOR_TARGETS[kind],
      text: `mcpscope on both sides ≤ ${FLOOR_TARGETS[kind].toFixed(2)}× the floor, ${kind} arguments: median ${formatNumber(ratio, 2)}× the floor (${formatNumber(medianOf(ours.ratios[kind]), 2)}× uninstrumented; the floor itself ${formatNumber(medianOf(figures.get('floor')!.ratios[kind]), 2)}×; on CPU time ${formatNumber(medianOf(ours.cpu.floorRatios[kind]), 2)}× the floor)`,
    });
  }
  if (!traceloop.error) {
    const ours = medianOf(serverOnly.ratios.nested);
    const theirs = medianOf(traceloop.ratios.nested);
    checks.push({
      met: !serverOnly.error && ours < theirs,
      text: `mcpscope on the server only below Traceloop's client-only figure, nested arguments: ${formatNumber(ours, 2)}× against ${formatNumber(theirs, 2)}×`,
    });
  }
  return checks;
};

const floorTargetLines = (figures: Map<VariantId, VariantFigures>): string[] =>
  floorTargetChecks(figures).map((check) => `${check.text}: ${check.met ? '**met**' : '**missed**'}`);

const targetsMet = (figures: Map<VariantId, VariantFigures>): boolean =>
  floorTargetChecks(figures).every((check) => check.met);

const renderReport = (
  settings: Settings,
  figures: Map<VariantId, VariantFigures>,
  coldStart: ColdStartFigures,
  conventionNames: Set<string>,
  loads: readonly string[],
): string => {
  const lines: string[] = [];
  const nestedSize = JSON.stringify(nestedArguments).length;
  lines.push('## Instrumentation overhead');
  lines.push('');
  lines.push(
    `\`callTool\` round trips over \`InMemoryTransport\` (McpServer with zod schemas + Client), sequential, ` +
      `small arguments (${JSON.stringify(smallArguments).length} B) and realistic nested arguments (${nestedSize} B JSON). ` +
      `${settings.rounds} rounds; in each round every variant runs in a fresh child process, all alive at once ` +
      `(${settings.warmupCalls} warm-up calls per argument size, then idle), and the orchestrator alternates timed batches of ${settings.batchCalls} calls between them, ` +
      `${settings.interleavedBatches} batches per variant and argument size, the order rotated per batch; the 10th-percentile batch of each variant is kept (load from other work on the shared machine only slows batches down). ` +
      `Ratios are taken against the uninstrumented run and the floor of the same round; cells are median (min–max) over rounds. Load average (1 min) after each round: ${loads.join(', ')}. ` +
      'The SDK v2 rows run the same tools, arguments and calls on `@modelcontextprotocol/server` and `/client` (zod 4 schemas) in the same rounds: ' +
      'SDK v2 uninstrumented is compared with v1 uninstrumented (what the SDK line itself costs), mcpscope on SDK v2 with SDK v2 uninstrumented.',
  );
  lines.push('');
  lines.push(
    '| variant | µs/call small | µs/call nested | added µs small | added µs nested | ratio small | ratio nested | ÷ floor small | ÷ floor nested | heap growth | semconv attrs on tools/call spans |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const variant of VARIANT_IDS) {
    const figure = figures.get(variant)!;
    const label = VARIANT_LABELS[variant];
    const attributeCell = renderAttributeCount(figure, conventionNames);
    if (figure.error) {
      lines.push(
        `| ${label} | could not run: ${escapeCell(figure.error)} | | | | | | | | | ${attributeCell} |`,
      );
      continue;
    }
    const heapCell =
      figure.heapGrowthBytes !== undefined
        ? `${formatNumber(figure.heapGrowthBytes / 2 ** 20, 1)} MB / ${formatNumber(figure.heapCalls ?? 0, 0)} calls`
        : `failed: ${escapeCell(figure.heapError ?? 'unknown')}`;
    const baselineId = VARIANT_BASELINES[variant];
    const baseline = figures.get(baselineId)!;
    const isBaseline = baselineId === variant;
    lines.push(
      [
        '',
        label,
        formatSpread(spreadOf(figure.micros.small), 1),
        formatSpread(spreadOf(figure.micros.nested), 1),
        isBaseline ? '—' : formatSpread(addedMicros(figure, baseline, 'small'), 1),
        isBaseline ? '—' : formatSpread(addedMicros(figure, baseline, 'nested'), 1),
        isBaseline ? '1.00×' : ratioCell(spreadOf(figure.ratios.small)),
        isBaseline ? '1.00×' : ratioCell(spreadOf(figure.ratios.nested)),
        figure.floorRatios.small.length ? ratioCell(spreadOf(figure.floorRatios.small)) : '—',
        figure.floorRatios.nested.length ? ratioCell(spreadOf(figure.floorRatios.nested)) : '—',
        heapCell,
        attributeCell,
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  lines.push('');
  lines.push(
    'The same batches on the worker process’s CPU time (`process.cpuUsage()`, user + system, every thread) instead of wall time: time the machine gave to other work does not count, so these move less with load.',
  );
  lines.push('');
  lines.push(
    '| variant | CPU µs/call small | CPU µs/call nested | ratio small | ratio nested | ÷ floor small | ÷ floor nested |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const variant of VARIANT_IDS) {
    const { cpu, error } = figures.get(variant)!;
    if (error) continue;
    const isBaseline = VARIANT_BASELINES[variant] === variant;
    lines.push(
      `| ${VARIANT_LABELS[variant]} | ${formatSpread(spreadOf(cpu.micros.small), 1)} | ${formatSpread(spreadOf(cpu.micros.nested), 1)} | ` +
        `${isBaseline ? '1.00×' : ratioCell(spreadOf(cpu.ratios.small))} | ${isBaseline ? '1.00×' : ratioCell(spreadOf(cpu.ratios.nested))} | ` +
        `${cpu.floorRatios.small.length ? ratioCell(spreadOf(cpu.floorRatios.small)) : '—'} | ${cpu.floorRatios.nested.length ? ratioCell(spreadOf(cpu.floorRatios.nested)) : '—'} |`,
    );
  }
  lines.push('');
  lines.push(
    `Heap growth: \`heapUsed\` after forced GC, before and after up to ${settings.heapCalls.toLocaleString('en-US')} calls (alternating small/nested; fewer when ${settings.heapBudgetSeconds} s had passed, the count says how many), after flushing the span processors.`,
  );
  lines.push(
    'Semantic-convention attributes counted: `mcp.*`, `gen_ai.*`, `jsonrpc.*`, `rpc.*`, `error.type`, `network.*`, `server.*`, per tools/call span, one figure per span kind (client / server) where a variant records both; "defined" counts those whose names the OpenTelemetry MCP/GenAI conventions define (from `@mcpscope/instrumentation/conventions`), so per-argument keys such as `mcp.request.argument.*` are not mistaken for conventions.',
  );
  lines.push('');
  lines.push('### Targets');
  lines.push('');
  const ours = figures.get('mcpscope-both')!;
  for (const line of floorTargetLines(figures)) lines.push(`- ${line}`);
  const v2 = figures.get('v2-mcpscope-both')!;
  if (!v2.error)
    lines.push(
      `- SDK v2, mcpscope on both sides against SDK v2 uninstrumented (no floor on v2 yet): median ${formatNumber(medianOf(v2.ratios.small), 2)}× small, ${formatNumber(medianOf(v2.ratios.nested), 2)}× nested`,
    );
  for (const peer of ['sentry', 'traceloop', 'openinference'] as const) {
    const figure = figures.get(peer)!;
    if (figure.error) {
      lines.push(`- below ${VARIANT_LABELS[peer]}: not comparable, the peer could not run`);
      continue;
    }
    const below = (['small', 'nested'] as const).every(
      (kind) => medianOf(ours.ratios[kind]) < medianOf(figure.ratios[kind]),
    );
    lines.push(
      `- below ${VARIANT_LABELS[peer]} (${formatNumber(medianOf(figure.ratios.small), 2)}× / ${formatNumber(medianOf(figure.ratios.nested), 2)}×): ${below ? '**met**' : '**missed**'}`,
    );
  }
  lines.push('');
  lines.push('### How each variant is set up');
  lines.push('');
  for (const variant of VARIANT_IDS) lines.push(`- ${VARIANT_LABELS[variant]}: ${VARIANT_SETUPS[variant]}.`);
  lines.push(
    '- The client is loaded from a private copy of the SDK, the server from the workspace, in every v1 variant: instrumentations patch the SDK\'s shared `Protocol` class, and this keeps "server only" honest. SDK v2\'s client and server packages each bundle their own protocol core, so the v2 rows need no copy.',
  );
  lines.push('');
  lines.push('### Attributes on tools/call spans');
  lines.push('');
  for (const variant of VARIANT_IDS) {
    const figure = figures.get(variant)!;
    if (BARE_VARIANTS.has(variant)) continue;
    if (figure.attributesError) {
      lines.push(`- ${VARIANT_LABELS[variant]}: could not run: ${escapeCell(figure.attributesError)}`);
      continue;
    }
    const spans = uniqueSpanShapes(figure.toolCallSpans ?? []);
    if (spans.length === 0) {
      lines.push(`- ${VARIANT_LABELS[variant]}: no tools/call spans`);
      continue;
    }
    lines.push(
      `- ${VARIANT_LABELS[variant]}: the password inside the nested arguments' connection string ${leaksSecret(figure.toolCallSpans ?? []) ? '**is recorded in clear**' : 'is not recorded'}`,
    );
    for (const span of spans) {
      const keys = semconvKeys(span.attributes);
      const others = Object.keys(span.attributes)
        .filter((key) => !SEMCONV_PATTERN.test(key))
        .sort();
      lines.push(
        `- ${VARIANT_LABELS[variant]}, ${span.kind ?? 'unknown-kind'} span \`${span.name}\`: ${keys.length} semconv (${keys.map((key) => `\`${key}\``).join(', ') || '—'}); other: ${others.map((key) => `\`${key}\``).join(', ') || '—'}`,
      );
    }
  }
  lines.push('');
  lines.push(...renderColdStart(coldStart));
  return lines.join('\n');
};

const renderAttributeCount = (figure: VariantFigures, conventionNames: Set<string>): string => {
  if (BARE_VARIANTS.has(figure.id)) return '—';
  if (figure.attributesError) return 'n/a';
  const spans = uniqueSpanShapes(figure.toolCallSpans ?? []);
  if (spans.length === 0) return '0 (no spans)';
  return spans
    .map((span) => {
      const keys = semconvKeys(span.attributes);
      const defined = keys.filter((key) => conventionNames.has(key)).length;
      return conventionNames.size ? `${keys.length} (${defined} defined)` : String(keys.length);
    })
    .join(' / ');
};

const leaksSecret = (spans: AttributesResult['toolCallSpans']): boolean =>
  spans.some((span) => JSON.stringify(span.attributes).includes(NESTED_SECRET));

/** One span per (name, attribute keys): the small and nested calls of a side look alike. */
const uniqueSpanShapes = (spans: AttributesResult['toolCallSpans']): AttributesResult['toolCallSpans'] => {
  const byShape = new Map<string, AttributesResult['toolCallSpans'][number]>();
  for (const span of spans) {
    const shape = `${span.kind ?? ''}|${semconvKeys(span.attributes).length}`;
    const known = byShape.get(shape);
    if (!known || Object.keys(span.attributes).length > Object.keys(known.attributes).length)
      byShape.set(shape, span);
  }
  return [...byShape.values()];
};

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rounds = process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length);
  const report = await runInstrumentationBench({
    quick: process.argv.includes('--quick'),
    timingOnly: process.argv.includes('--timing-only'),
    rounds: rounds === undefined ? undefined : Number(rounds),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(report.markdown);
}
