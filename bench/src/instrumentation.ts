/**
 * Instrumentation overhead: the same MCP server and client, the same calls, each variant in its
 * own child process per round (patches never leak between variants), rounds interleaved so machine
 * drift hits every variant alike. Figures are ratios to the uninstrumented run of the same round
 * (for MCP SDK v2 with mcpscope, to the uninstrumented SDK v2 run of the same round).
 *
 * Run alone: `node --import tsx bench/src/instrumentation.ts [--quick]` (after `npm run build`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NESTED_SECRET, nestedArguments, smallArguments } from './instrumentation/call-fixture.js';
import { ensureClientSdkCopy } from './instrumentation/client-sdk-copy.js';
import {
  BARE_VARIANTS,
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
import { formatNumber, formatSpread, rotated, spreadOf, type Spread } from './support/stats.js';

export interface InstrumentationBenchOptions {
  quick?: boolean;
  log?: (line: string) => void;
}

interface Settings {
  rounds: number;
  warmupCalls: number;
  callsPerRound: number;
  batches: number;
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
        heapCalls: 5_000,
        heapBudgetSeconds: 5,
        coldStartPairs: 3,
      }
    : {
        rounds: 5,
        warmupCalls: 300,
        callsPerRound: 1500,
        batches: 10,
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

/** Milliseconds to start a small server (McpServer, one tool, connected, one listTools) and exit. */
const coldStartScript = (withImport: boolean): string =>
  [
    withImport ? "import '@mcpscope/instrumentation/register';" : '',
    "import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';",
    "import { Client } from '@modelcontextprotocol/sdk/client/index.js';",
    "import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';",
    "const server = new McpServer({ name: 'cold', version: '1.0.0' });",
    "server.registerTool('ping', { description: 'ping' }, () => ({ content: [] }));",
    'const [a, b] = InMemoryTransport.createLinkedPair();',
    "const client = new Client({ name: 'c', version: '1.0.0' });",
    'await server.connect(b); await client.connect(a); await client.listTools();',
    'process.exit(0);',
  ].join('\n');

const measureColdStart = async (pairs: number) => {
  const samples = { without: [] as number[], with: [] as number[], added: [] as number[] };
  let error: string | undefined;
  // An unreachable endpoint: start-up must not depend on the collector being there.
  const env = {
    ...process.env,
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    OTEL_SERVICE_NAME: 'cold-start',
  };
  for (let pair = 0; pair < pairs; pair += 1) {
    const order = pair % 2 === 0 ? [false, true] : [true, false];
    const times: Record<string, number> = {};
    for (const withImport of order) {
      const outcome = await runChild(
        process.execPath,
        ['--input-type=module', '-e', coldStartScript(withImport)],
        { cwd: repoRoot, env, timeoutMs: 60_000 },
      );
      if (outcome.code !== 0) error ??= failureSummary(outcome);
      times[String(withImport)] = outcome.elapsedMs;
    }
    samples.without.push(times.false!);
    samples.with.push(times.true!);
    samples.added.push(times.true! - times.false!);
  }
  return { samples, error };
};

const ratioCell = (spread: Spread): string => formatSpread(spread, 2, '×');

export const runInstrumentationBench = async (
  options: InstrumentationBenchOptions = {},
): Promise<InstrumentationReport> => {
  const settings = settingsFor(options.quick ?? false);
  const log = options.log ?? (() => {});
  const clientSdkRoot = ensureClientSdkCopy();
  const figures = new Map<VariantId, VariantFigures>(
    VARIANT_IDS.map((id) => [
      id,
      { id, micros: { small: [], nested: [] }, ratios: { small: [], nested: [] } },
    ]),
  );
  const request = {
    clientSdkRoot,
    warmupCalls: settings.warmupCalls,
    calls: settings.callsPerRound,
    batches: settings.batches,
  };

  for (let round = 0; round < settings.rounds; round += 1) {
    const roundMicros = new Map<VariantId, TimingResult['microsPerCall']>();
    for (const variant of rotated(VARIANT_IDS, round)) {
      const figure = figures.get(variant)!;
      if (figure.error) continue;
      const result = await runWorker(variant, 'timing', request);
      if ('error' in result) {
        figure.error = result.error;
        log(`  ${variant}: failed: ${result.error}`);
        continue;
      }
      roundMicros.set(variant, (result as TimingResult).microsPerCall);
    }
    for (const [variant, micros] of roundMicros) {
      const figure = figures.get(variant)!;
      const baseline = roundMicros.get(VARIANT_BASELINES[variant]);
      for (const kind of ['small', 'nested'] as const) {
        figure.micros[kind].push(micros[kind]);
        if (baseline) figure.ratios[kind].push(micros[kind] / baseline[kind]);
      }
    }
    log(
      `  round ${round + 1}/${settings.rounds}: ` +
        [...roundMicros]
          .map(([variant, micros]) => `${variant} ${micros.small.toFixed(0)}/${micros.nested.toFixed(0)} µs`)
          .join(', '),
    );
  }

  for (const variant of VARIANT_IDS) {
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

  const profile = await profileVariant('mcpscope-both', request, log);
  const coldStart = await measureColdStart(settings.coldStartPairs);
  log(`  cold start: ${coldStart.samples.added.length} pairs`);

  const conventionNames = await loadConventionNames();
  return {
    markdown: renderReport(settings, figures, coldStart, conventionNames) + renderProfile(profile),
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

/** mcpscope on both sides within 1.10× of the bare SDK it runs on. */
const withinOverheadTarget = (figure: VariantFigures): boolean =>
  !figure.error && Math.max(medianOf(figure.ratios.small), medianOf(figure.ratios.nested)) <= 1.1;

const targetsMet = (figures: Map<VariantId, VariantFigures>): boolean => {
  const ours = figures.get('mcpscope-both')!;
  if (!withinOverheadTarget(ours) || !withinOverheadTarget(figures.get('v2-mcpscope-both')!)) return false;
  return (['sentry', 'traceloop', 'openinference'] as const).every((peer) => {
    const figure = figures.get(peer)!;
    if (figure.error) return true;
    return (['small', 'nested'] as const).every(
      (kind) => medianOf(ours.ratios[kind]) < medianOf(figure.ratios[kind]),
    );
  });
};

const renderReport = (
  settings: Settings,
  figures: Map<VariantId, VariantFigures>,
  coldStart: Awaited<ReturnType<typeof measureColdStart>>,
  conventionNames: Set<string>,
): string => {
  const lines: string[] = [];
  const nestedSize = JSON.stringify(nestedArguments).length;
  lines.push('## Instrumentation overhead');
  lines.push('');
  lines.push(
    `\`callTool\` round trips over \`InMemoryTransport\` (McpServer with zod schemas + Client), sequential, ` +
      `small arguments (${JSON.stringify(smallArguments).length} B) and realistic nested arguments (${nestedSize} B JSON). ` +
      `${settings.rounds} rounds; in each round every variant runs in a fresh child process ` +
      `(${settings.warmupCalls} warm-up, then ${settings.callsPerRound} timed calls per argument size in ${settings.batches} alternating batches, the median batch kept), the order rotated per round. ` +
      'Ratios are taken against the uninstrumented run of the same round; cells are median (min–max) over rounds. ' +
      'The SDK v2 rows run the same tools, arguments and calls on `@modelcontextprotocol/server` and `/client` (zod 4 schemas) in the same rounds: ' +
      'SDK v2 uninstrumented is compared with v1 uninstrumented (what the SDK line itself costs), mcpscope on SDK v2 with SDK v2 uninstrumented.',
  );
  lines.push('');
  lines.push(
    '| variant | µs/call small | µs/call nested | added µs small | added µs nested | ratio small | ratio nested | heap growth | semconv attrs on tools/call spans |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const variant of VARIANT_IDS) {
    const figure = figures.get(variant)!;
    const label = VARIANT_LABELS[variant];
    const attributeCell = renderAttributeCount(figure, conventionNames);
    if (figure.error) {
      lines.push(`| ${label} | could not run: ${escapeCell(figure.error)} | | | | | | | ${attributeCell} |`);
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
    `Heap growth: \`heapUsed\` after forced GC, before and after up to ${settings.heapCalls.toLocaleString('en-US')} calls (alternating small/nested; fewer when ${settings.heapBudgetSeconds} s had passed, the count says how many), after flushing the span processors.`,
  );
  lines.push(
    'Semantic-convention attributes counted: `mcp.*`, `gen_ai.*`, `jsonrpc.*`, `rpc.*`, `error.type`, `network.*`, `server.*`, per tools/call span, one figure per span kind (client / server) where a variant records both; "defined" counts those whose names the OpenTelemetry MCP/GenAI conventions define (from `@mcpscope/instrumentation/conventions`), so per-argument keys such as `mcp.request.argument.*` are not mistaken for conventions.',
  );
  lines.push('');
  lines.push('### Targets');
  lines.push('');
  const ours = figures.get('mcpscope-both')!;
  for (const [figure, target] of [
    [ours, 'mcpscope on both sides ≤ 1.10× uninstrumented'],
    [figures.get('v2-mcpscope-both')!, 'SDK v2, mcpscope on both sides ≤ 1.10× SDK v2 uninstrumented'],
  ] as const) {
    const small = medianOf(figure.ratios.small);
    const nested = medianOf(figure.ratios.nested);
    const worst = Math.max(small, nested);
    lines.push(
      `- ${target}: ${figure.error ? `**not measured** (${escapeCell(figure.error)})` : `${worst <= 1.1 ? '**met**' : '**missed**'} (median ${formatNumber(small, 2)}× small, ${formatNumber(nested, 2)}× nested)`}`,
    );
  }
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
  lines.push('### Cold start of the one import');
  lines.push('');
  lines.push(
    `\`node --input-type=module -e\` that starts an McpServer with one tool, connects a client over InMemoryTransport, lists tools and exits; with and without \`import '@mcpscope/instrumentation/register'\` first (OTLP/gRPC exporter, endpoint unreachable), ${settings.coldStartPairs} interleaved pairs.`,
  );
  lines.push('');
  lines.push('| | ms |');
  lines.push('| --- | --- |');
  lines.push(`| without the import | ${formatSpread(spreadOf(coldStart.samples.without), 0)} |`);
  lines.push(`| with the import | ${formatSpread(spreadOf(coldStart.samples.with), 0)} |`);
  lines.push(`| added by the import (per pair) | ${formatSpread(spreadOf(coldStart.samples.added), 0)} |`);
  if (coldStart.error) lines.push(`\nA cold-start run failed: ${escapeCell(coldStart.error)}`);
  lines.push('');
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
  const report = await runInstrumentationBench({
    quick: process.argv.includes('--quick'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(report.markdown);
}
