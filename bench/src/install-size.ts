/**
 * What installing the instrumentation costs a user: the packed `@mcpscope/instrumentation` plus the
 * MCP SDK in an empty project, as the README says to install them, measured on disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './support/paths.js';

/** Kilobytes on disk under `path` (`du -sk`: what the user's disk loses, blocks included). */
const diskKiB = (path: string): number =>
  Number(execFileSync('du', ['-sk', path], { encoding: 'utf8' }).split('\t')[0]);

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

/** Package directories under node_modules, scoped ones as `@scope/name`. */
const installedPackages = (nodeModules: string): string[] =>
  readdirSync(nodeModules)
    .filter((entry) => !entry.startsWith('.'))
    .flatMap((entry) =>
      entry.startsWith('@')
        ? readdirSync(join(nodeModules, entry)).map((name) => `${entry}/${name}`)
        : [entry],
    );

export const runInstallSizeBench = ({ log }: { log: (line: string) => void }): string => {
  const work = mkdtempSync(join(tmpdir(), 'mcpscope-install-size-'));
  try {
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    log('  packing @mcpscope/instrumentation…');
    execFileSync('npm', ['pack', '-w', 'instrumentation', '--pack-destination', tarballs], {
      cwd: repoRoot,
      stdio: 'pipe',
    });
    const [tarball] = readdirSync(tarballs);
    if (tarball === undefined) throw new Error('npm pack wrote no tarball');
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), '{ "private": true }\n');
    log('  installing it with @modelcontextprotocol/sdk into an empty project…');
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', join(tarballs, tarball), '@modelcontextprotocol/sdk'],
      {
        cwd: project,
        stdio: 'pipe',
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
      },
    );
    const nodeModules = join(project, 'node_modules');
    const packages = installedPackages(nodeModules);
    const sizes = packages
      .map((name) => ({ name, kib: diskKiB(join(nodeModules, name)) }))
      .sort((a, b) => b.kib - a.kib);
    const openTelemetry = sizes.filter((entry) => entry.name.startsWith('@opentelemetry/'));
    const total = diskKiB(nodeModules);
    return [
      '## Installed size',
      '',
      '`npm install mcpscope-instrumentation-0.1.0.tgz @modelcontextprotocol/sdk` into an empty project',
      '(what the README says to install; the OTLP/HTTP exporters and the full Node SDK are optional peers,',
      'installed only by those whose `OTEL_*` settings ask for them).',
      '',
      '| | on disk | packages |',
      '| --- | --- | --- |',
      `| \`node_modules\` | ${mib(total)} | ${packages.length} |`,
      `| of which \`@opentelemetry/*\` | ${mib(openTelemetry.reduce((sum, entry) => sum + entry.kib, 0))} | ${openTelemetry.length} |`,
      '',
      'Largest packages:',
      '',
      '| package | on disk |',
      '| --- | --- |',
      ...sizes.slice(0, 8).map((entry) => `| \`${entry.name}\` | ${mib(entry.kib)} |`),
      '',
    ].join('\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};
