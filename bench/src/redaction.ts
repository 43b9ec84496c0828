/**
 * The redaction engine on its own: `redactValue` over four typical inputs, each beside
 * `structuredClone` of the same value measured in the same rounds, so figures are ratios that hold
 * from machine to machine. Rounds interleave the engine and the baseline, each round in a rotated order.
 *
 * Run by hand: `node --import tsx bench/src/redaction.ts [--quick] [--compare=DIR]`, where DIR is
 * another copy of the engine's folder (e.g. `instrumentation/src/redaction` in a worktree of an
 * older commit) measured in the same run, for before/after figures.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { nestedArguments, smallArguments } from './instrumentation/call-fixture.js';
import { benchSrc } from './support/paths.js';
import { formatSpread, rotated, spreadOf, type Spread } from './support/stats.js';

interface Redactor {
  redactValue(value: unknown): { value: unknown; count: number; byRule: Record<string, number> };
}
type RedactionModule = { createRedactor: () => Redactor };

interface BenchCase {
  id: string;
  label: string;
  /** Values taken in turn, one per call; one value unless the case is about values that do not repeat. */
  values: readonly unknown[];
  /** Redactions the engine must report, so a broken engine cannot look fast. */
  expectedCount: number;
}

/** OTLP-style span attributes: the names the collector sees most, a few ids, one bearer token. */
const spanAttributes: Record<string, unknown> = {
  'http.request.method': 'POST',
  'http.response.status_code': 200,
  'http.route': '/mcp',
  'url.full': 'https://mcp.internal.example:8443/mcp?session=7f3e2b1d',
  'server.address': 'mcp.internal.example',
  'server.port': 8443,
  'network.transport': 'tcp',
  'mcp.method.name': 'tools/call',
  'mcp.session.id': '5c0a7f3e-2b1d-4e8f-9a6b-3c2d1e0f9a8b',
  'mcp.protocol.version': '2025-06-18',
  'jsonrpc.request.id': '42',
  'gen_ai.tool.name': 'list_instances',
  'gen_ai.operation.name': 'execute_tool',
  'gen_ai.tool.call.arguments': '{"region":"eu-west-1","limit":25}',
  'gen_ai.usage.input_tokens': 1234,
  'gen_ai.usage.output_tokens': 56,
  'mcpscope.task.id': 'task-0192f3a4-7c1e',
  'mcpscope.arguments.fingerprint': 'hmac-sha256:9b2f0c1d4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a',
  'user_agent.original': 'node-fetch/1.0 mcp-client/1.32.0',
  'http.request.header.x-debug': `Bearer ${['9f8e7d6c', '5b4a3928', '1706f5e4'].join('')}`,
};

/** Service log lines with timestamps, levels, URLs and key=value fields, and no secret: just under 4 KB. */
const logText = (() => {
  const lines: string[] = [];
  for (let index = 0; lines.join('\n').length < 3900; index++) {
    const at = new Date(Date.UTC(2026, 10, 24, 8, 0, index)).toISOString();
    lines.push(
      index % 3 === 0
        ? `${at} INFO  tools/call list_instances region=eu-west-1 limit=25 duration_ms=${12 + index} status=ok`
        : index % 3 === 1
          ? `${at} DEBUG GET https://ec2.eu-west-1.amazonaws.com/?Action=DescribeInstances&MaxResults=25 -> 200 (${index * 7} bytes)`
          : `${at} WARN  retrying plan_changes for workspace payments-prod (attempt ${index % 4}), request id 0192f3a4-${index}`,
    );
  }
  return lines.join('\n').slice(0, 4000);
})();

/**
 * Span attributes as a collector sees them: the names repeat, session, request and task ids do not.
 * More variants than the engine remembers clean strings, so none of the ids is ever found remembered.
 */
const freshAttributes = Array.from({ length: 20_000 }, (_, index) => ({
  ...spanAttributes,
  'mcp.session.id': `5c0a7f3e-2b1d-4e8f-${(0x9a6b + index).toString(16)}-3c2d1e0f9a8b`,
  'jsonrpc.request.id': String(1000 + index),
  'mcpscope.task.id': `task-0192f3a4-${index.toString(36)}`,
}));

const CASES: readonly BenchCase[] = [
  { id: 'small', label: '(a) small tool arguments', values: [smallArguments], expectedCount: 0 },
  {
    id: 'nested',
    label: '(b) 2 KB nested arguments, one connection-string password',
    values: [nestedArguments],
    expectedCount: 1,
  },
  {
    id: 'attributes',
    label: '(c) 20 span attributes, one bearer token',
    values: [spanAttributes],
    expectedCount: 1,
  },
  {
    id: 'attributes-fresh',
    label: '(c′) the same, with ids that differ on every call',
    values: freshAttributes,
    expectedCount: 1,
  },
  { id: 'log', label: '(d) 4 KB log text, no secret', values: [logText], expectedCount: 0 },
];

interface Settings {
  rounds: number;
  /** Time each measured batch should take, so timer resolution does not matter. */
  batchMs: number;
  warmupMs: number;
}

/** Runs `work` in a loop for about `ms`; returns how many times it ran. */
const calibrate = (work: () => unknown, ms: number): number => {
  let iterations = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    work();
    iterations++;
  }
  return Math.max(1, iterations);
};

/** µs per call of one batch of `iterations` calls; every result is checked so none can be optimised away. */
const timeBatch = (work: () => unknown, iterations: number): number => {
  let produced = 0;
  const started = performance.now();
  for (let index = 0; index < iterations; index++) if (work() !== undefined) produced++;
  const elapsed = performance.now() - started;
  if (produced !== iterations) throw new Error(`${iterations - produced} calls returned nothing`);
  return (elapsed * 1000) / iterations;
};

interface CaseFigures {
  baseline: Spread;
  engines: Record<string, Spread>;
  ratios: Record<string, Spread>;
}

const measureCase = (
  benchCase: BenchCase,
  engines: Record<string, Redactor>,
  settings: Settings,
): CaseFigures => {
  const { values } = benchCase;
  let turn = 0;
  const next = (): unknown => values[turn++ % values.length];
  const variants: Record<string, () => unknown> = { baseline: () => structuredClone(next()) };
  for (const [name, redactor] of Object.entries(engines)) {
    const outcome = redactor.redactValue(values[0]);
    if (outcome.count !== benchCase.expectedCount)
      throw new Error(
        `${name} redacted ${outcome.count} values in ${benchCase.id}, expected ${benchCase.expectedCount}`,
      );
    variants[name] = () => redactor.redactValue(next());
  }
  const names = Object.keys(variants);
  const iterations: Record<string, number> = {};
  for (const name of names) {
    const work = variants[name]!;
    calibrate(work, settings.warmupMs);
    iterations[name] = calibrate(work, settings.batchMs);
  }
  const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const name of rotated(names, round))
      samples[name]!.push(timeBatch(variants[name]!, iterations[name]!));
  }
  const baselineSamples = samples.baseline!;
  const figures: CaseFigures = { baseline: spreadOf(baselineSamples), engines: {}, ratios: {} };
  for (const name of Object.keys(engines)) {
    const engineSamples = samples[name]!;
    figures.engines[name] = spreadOf(engineSamples);
    // Ratios per round: both sides of a ratio saw the same machine load.
    figures.ratios[name] = spreadOf(engineSamples.map((value, round) => value / baselineSamples[round]!));
  }
  return figures;
};

const loadEngine = async (folder: string): Promise<Redactor> => {
  const module = (await import(pathToFileURL(resolve(folder, 'index.ts')).href)) as RedactionModule & {
    default?: RedactionModule;
  };
  // The engine's package is CommonJS: a dynamic import may hand back its exports as `default`.
  const createRedactor = module.createRedactor ?? module.default?.createRedactor;
  if (createRedactor === undefined) throw new Error(`no createRedactor in ${folder}`);
  return createRedactor();
};

export const runRedactionBench = async ({
  quick = false,
  compare,
}: { quick?: boolean; compare?: string } = {}): Promise<string> => {
  const settings: Settings = quick
    ? { rounds: 7, batchMs: 20, warmupMs: 100 }
    : { rounds: 21, batchMs: 50, warmupMs: 300 };
  const engines: Record<string, Redactor> = {
    current: await loadEngine(resolve(benchSrc, '../../instrumentation/src/redaction')),
  };
  if (compare !== undefined) engines.compared = await loadEngine(compare);
  const names = Object.keys(engines);

  const header = [
    'input',
    'structuredClone µs',
    ...names.flatMap((name) => [`${name} µs`, `${name} ÷ clone`]),
  ];
  const lines = [
    '### Redaction engine',
    '',
    `\`redactValue\` with the default options beside \`structuredClone\` of the same value, ${settings.rounds} interleaved rounds of ~${settings.batchMs} ms batches; median (min–max) over rounds, ratios taken per round.` +
      (compare === undefined ? '' : ` \`compared\` is the engine in \`${compare}\`.`),
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
  ];
  for (const benchCase of CASES) {
    const figures = measureCase(benchCase, engines, settings);
    const cells = names.flatMap((name) => [
      formatSpread(figures.engines[name]!, 2),
      formatSpread(figures.ratios[name]!, 2, '×'),
    ]);
    lines.push(`| ${benchCase.label} | ${formatSpread(figures.baseline, 2)} | ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const compare = process.argv.find((arg) => arg.startsWith('--compare='))?.slice('--compare='.length);
  process.stdout.write(
    await runRedactionBench({ quick: process.argv.includes('--quick'), ...(compare ? { compare } : {}) }),
  );
}
