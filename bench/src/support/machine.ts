import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem, loadavg, release, platform } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

const require = createRequire(join(repoRoot, 'package.json'));

/** Version of an installed package, or why it is missing. */
export const packageVersion = (name: string): string => {
  try {
    const resolvedEntry = require.resolve(`${name}/package.json`);
    const pkg = JSON.parse(readFileSync(resolvedEntry, 'utf8')) as { name?: string; version: string };
    if (pkg.name !== name) throw new Error('not the package root');
    return pkg.version;
  } catch {
    try {
      // Packages without a `./package.json` export: walk up from the entry point.
      let dir = require.resolve(name === '@modelcontextprotocol/sdk' ? `${name}/client/index.js` : name);
      for (let i = 0; i < 8; i += 1) {
        dir = join(dir, '..');
        try {
          const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
            name?: string;
            version: string;
          };
          if (pkg.name === name) return pkg.version;
        } catch {
          // keep walking
        }
      }
    } catch {
      // not installed
    }
    return 'not installed';
  }
};

const gitCommit = (): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};

export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  loadAverage: string;
  commit: string;
  packages: Record<string, string>;
}

export const describeMachine = (): MachineDescription => {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    loadAverage: loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
    commit: gitCommit(),
    packages: Object.fromEntries(
      [
        '@mcpscope/instrumentation',
        '@mcpscope/collector',
        '@modelcontextprotocol/sdk',
        '@modelcontextprotocol/server',
        '@modelcontextprotocol/client',
        '@opentelemetry/api',
        '@opentelemetry/sdk-trace-node',
        '@opentelemetry/exporter-trace-otlp-grpc',
        '@opentelemetry/exporter-trace-otlp-proto',
        '@sentry/node',
        '@traceloop/instrumentation-mcp',
        '@arizeai/openinference-instrumentation-mcp',
        '@duckdb/node-api',
        '@grpc/grpc-js',
        'hono',
      ].map((name) => [name, packageVersion(name)]),
    ),
  };
};
