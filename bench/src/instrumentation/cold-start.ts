/**
 * Start-up added by the one import, for an ESM and a CommonJS entry: a small server (McpServer, one
 * tool, a client over InMemoryTransport, one listTools) started and ended with and without the import,
 * in interleaved pairs. Wall time and the child's own CPU time (all its threads) per run; with
 * `--callgrind`, instructions counted by `valgrind --tool=callgrind` instead, which load on a shared
 * machine does not change.
 *
 * Alone: `node --import tsx bench/src/instrumentation/cold-start.ts [--pairs=10] [--callgrind] [--profile]`
 * (after `npm run build`); `--profile` writes `--cpu-prof` profiles of one run with the import per
 * entry format to bench/.cache/profiles.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { failureSummary, runChild } from '../support/child-process.js';
import { benchCache } from '../support/paths.js';
import { formatNumber, formatSpread, spreadOf } from '../support/stats.js';

export const ENTRY_FORMATS = ['module', 'commonjs'] as const;
export type EntryFormat = (typeof ENTRY_FORMATS)[number];

const COLD_PREFIX = 'COLD_START ';

/** What the child reports as it ends: its CPU time (user + system, every thread) and wall time since it began. */
const report = `process.stdout.write('${COLD_PREFIX}' + JSON.stringify({ cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000, wallMs: performance.now() }) + '\\n');`;

const serverBody = [
  "const server = new McpServer({ name: 'cold', version: '1.0.0' });",
  "server.registerTool('ping', { description: 'ping' }, () => ({ content: [] }));",
  'const [a, b] = InMemoryTransport.createLinkedPair();',
  "const client = new Client({ name: 'c', version: '1.0.0' });",
  'await server.connect(b); await client.connect(a); await client.listTools();',
  report,
  'process.exit(0);',
];

/** The script `node --input-type=<format> -e` runs. */
export const coldStartScript = (format: EntryFormat, withImport: boolean): string =>
  format === 'module'
    ? [
        withImport ? "import '@mcpscope/instrumentation/register';" : '',
        "import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';",
        "import { Client } from '@modelcontextprotocol/sdk/client/index.js';",
        "import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';",
        ...serverBody,
      ].join('\n')
    : [
        withImport ? "require('@mcpscope/instrumentation/register');" : '',
        "const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');",
        "const { Client } = require('@modelcontextprotocol/sdk/client/index.js');",
        "const { InMemoryTransport } = require('@modelcontextprotocol/sdk/inMemory.js');",
        '(async () => {',
        ...serverBody,
        '})();',
      ].join('\n');

// An unreachable endpoint: start-up must not depend on the collector being there.
const childEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  OTEL_SDK_DISABLED: undefined,
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
  OTEL_SERVICE_NAME: 'cold-start',
});

/**
 * Where the children run: an application that declares the MCP SDK v1 and mcpscope, as a user's
 * would (the workspace's own package.json declares SDK v2 too, which the one import would then load).
 */
const appDir = (): string => {
  const dir = join(benchCache, 'cold-start-app');
  mkdirSync(dir, { recursive: true });
  const manifest = {
    name: 'cold-start-app',
    private: true,
    dependencies: { '@mcpscope/instrumentation': '*', '@modelcontextprotocol/sdk': '*' },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
};

interface Run {
  wallMs: number;
  cpuMs: number;
  instructions?: number;
}

/** Instructions callgrind counted for the whole process (`summary:`/`totals:` line of its output). */
const callgrindTotal = (file: string): number | undefined => {
  const text = readFileSync(file, 'utf8');
  const match = /^(?:summary|totals): (\d+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
};

const runOnce = async (
  format: EntryFormat,
  withImport: boolean,
  mode: { callgrind?: boolean; profileDir?: string },
): Promise<Run | { error: string }> => {
  const nodeArgs = [`--input-type=${format}`, '-e', coldStartScript(format, withImport)];
  if (mode.profileDir) nodeArgs.unshift('--cpu-prof', `--cpu-prof-dir=${mode.profileDir}`);
  let command = process.execPath;
  let args = nodeArgs;
  let callgrindFile: string | undefined;
  if (mode.callgrind) {
    callgrindFile = join(tmpdir(), `mcpscope-cold-${process.pid}-${Date.now()}.callgrind`);
    command = 'valgrind';
    // Node compiles code at run time: valgrind must notice code it rewrites.
    args = [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${callgrindFile}`,
      process.execPath,
      ...nodeArgs,
    ];
  }
  const outcome = await runChild(command, args, { cwd: appDir(), env: childEnv(), timeoutMs: 10 * 60_000 });
  const line = outcome.stdout.split('\n').find((candidate) => candidate.startsWith(COLD_PREFIX));
  if (outcome.code !== 0 || !line) return { error: failureSummary(outcome) };
  const run = JSON.parse(line.slice(COLD_PREFIX.length)) as Run;
  if (callgrindFile) {
    run.instructions = callgrindTotal(callgrindFile);
    rmSync(callgrindFile, { force: true });
  }
  return run;
};

export interface ColdStartFigures {
  pairs: number;
  callgrind: boolean;
  byFormat: Record<
    EntryFormat,
    {
      withoutMs: number[];
      withMs: number[];
      addedMs: number[];
      addedCpuMs: number[];
      addedInstructions: number[];
      withoutInstructions: number[];
    }
  >;
  error?: string;
}

export const measureColdStart = async (
  pairs: number,
  options: { callgrind?: boolean } = {},
): Promise<ColdStartFigures> => {
  const figures: ColdStartFigures = {
    pairs,
    callgrind: options.callgrind === true,
    byFormat: {
      module: {
        withoutMs: [],
        withMs: [],
        addedMs: [],
        addedCpuMs: [],
        addedInstructions: [],
        withoutInstructions: [],
      },
      commonjs: {
        withoutMs: [],
        withMs: [],
        addedMs: [],
        addedCpuMs: [],
        addedInstructions: [],
        withoutInstructions: [],
      },
    },
  };
  for (let pair = 0; pair < pairs; pair += 1) {
    for (const format of ENTRY_FORMATS) {
      const order = pair % 2 === 0 ? [false, true] : [true, false];
      const runs: Partial<Record<'with' | 'without', Run>> = {};
      for (const withImport of order) {
        const run = await runOnce(format, withImport, options);
        if ('error' in run) figures.error ??= `${format}: ${run.error}`;
        else runs[withImport ? 'with' : 'without'] = run;
      }
      const { with: withRun, without } = runs;
      if (!withRun || !without) continue;
      const row = figures.byFormat[format];
      row.withoutMs.push(without.wallMs);
      row.withMs.push(withRun.wallMs);
      row.addedMs.push(withRun.wallMs - without.wallMs);
      row.addedCpuMs.push(withRun.cpuMs - without.cpuMs);
      if (withRun.instructions !== undefined && without.instructions !== undefined) {
        row.addedInstructions.push(withRun.instructions - without.instructions);
        row.withoutInstructions.push(without.instructions);
      }
    }
  }
  return figures;
};

/** `--cpu-prof` of one start with the import, per entry format: where start-up time goes. */
export const profileColdStart = async (): Promise<string[]> => {
  const written: string[] = [];
  for (const format of ENTRY_FORMATS) {
    const dir = join(benchCache, 'profiles', `cold-start-${format}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const run = await runOnce(format, true, { profileDir: dir });
    written.push('error' in run ? `${format}: ${run.error}` : dir);
  }
  return written;
};

const millions = (value: number): string => `${formatNumber(value / 1e6, 0)} M`;

export const renderColdStart = (figures: ColdStartFigures): string[] => {
  const lines = ['### Cold start of the one import', ''];
  lines.push(
    "`node --input-type=module -e` (ESM entry: `import '@mcpscope/instrumentation/register'`) and `node --input-type=commonjs -e` (CommonJS entry: `require(...)`) that start an McpServer with one tool, connect a client over InMemoryTransport, list tools and exit; " +
      `with and without the import first (OTLP/gRPC exporter, endpoint unreachable), ${figures.pairs} interleaved pairs per entry, run in an application directory whose package.json declares \`@modelcontextprotocol/sdk\` (v1) and mcpscope. ` +
      'Wall time is the child’s own `performance.now()` at its end; CPU time is its `process.cpuUsage()` (user + system, every thread). Median (min–max) of the per-pair differences.',
  );
  lines.push('');
  lines.push(
    '| entry | without the import, ms | with the import, ms | added wall ms (per pair) | added CPU ms (per pair) |',
  );
  lines.push('| --- | --- | --- | --- | --- |');
  for (const format of ENTRY_FORMATS) {
    const row = figures.byFormat[format];
    lines.push(
      `| ${format === 'module' ? 'ESM' : 'CommonJS'} | ${formatSpread(spreadOf(row.withoutMs), 0)} | ${formatSpread(spreadOf(row.withMs), 0)} | ${formatSpread(spreadOf(row.addedMs), 0)} | ${formatSpread(spreadOf(row.addedCpuMs), 0)} |`,
    );
  }
  if (figures.callgrind) {
    lines.push('');
    lines.push('Instructions counted by `valgrind --tool=callgrind` (the whole process, every thread):');
    lines.push('');
    lines.push('| entry | without the import | added by the import |');
    lines.push('| --- | --- | --- |');
    for (const format of ENTRY_FORMATS) {
      const row = figures.byFormat[format];
      lines.push(
        `| ${format === 'module' ? 'ESM' : 'CommonJS'} | ${millions(spreadOf(row.withoutInstructions).median)} | ${millions(spreadOf(row.addedInstructions).median)} |`,
      );
    }
  }
  if (figures.error) lines.push('', `A cold-start run failed: ${figures.error.replace(/\|/g, '\\|')}`);
  lines.push('');
  return lines;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const pairs = Number(process.argv.find((arg) => arg.startsWith('--pairs='))?.slice(8) ?? 10);
  if (process.argv.includes('--profile')) {
    for (const written of await profileColdStart()) process.stderr.write(`profile: ${written}\n`);
  }
  const figures = await measureColdStart(pairs, { callgrind: process.argv.includes('--callgrind') });
  process.stdout.write(`${renderColdStart(figures).join('\n')}\n`);
}
