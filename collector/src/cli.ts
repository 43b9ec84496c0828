#!/usr/bin/env node
import { Command, Option } from 'commander';
import { startCollector } from './app.js';
import {
  ConfigError,
  createLogger,
  errorKind,
  parseConfig,
  SETTINGS,
  type CollectorConfig,
  type SettingName,
} from './config/index.js';
import type { TaskDetail, TaskSummary } from './api/views.js';
import { formatTaskTable, sinceToFrom } from './task-table.js';
import { formatTaskWaterfall } from './task-waterfall.js';
import { terminalSafe, terminalSafeJson } from './terminal-text.js';

// DuckDB and gRPC share libuv's pool with file and DNS work; four threads are too few under load.
process.env.UV_THREADPOOL_SIZE ??= '8';

const BOOLEAN_SETTINGS = new Set<SettingName>(['allowInsecureRemote']);

const exporterHint = (grpcUrl: string, httpUrl: string) =>
  [
    'Point an OpenTelemetry exporter at it:',
    `  OTEL_EXPORTER_OTLP_ENDPOINT=${grpcUrl}`,
    `  or, over HTTP: OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_ENDPOINT=${httpUrl}`,
  ].join('\n');

/** Why the collector could not start, in terms of the setting to change where there is one. */
const startFailure = (error: unknown, config: CollectorConfig): string => {
  const message = error instanceof Error ? error.message : String(error);
  const inUse = /EADDRINUSE[^\]]*?:(\d+)\b/.exec(message);
  if (inUse) {
    const port = Number(inUse[1]);
    const [what, setting] =
      port === config.grpcPort
        ? ['the OTLP/gRPC port', '--grpc-port or MCPSCOPE_GRPC_PORT']
        : ['the HTTP port (OTLP/HTTP, API, metrics)', '--http-port or MCPSCOPE_HTTP_PORT'];
    return `${what} ${config.host}:${port} is already in use (another collector or OpenTelemetry Collector?): stop it or choose another port with ${setting}`;
  }
  if (/Could not set lock on file/.test(message)) {
    return `the database ${config.dbPath} is open in another process; one collector owns one file: stop it or choose another file with --db-path or MCPSCOPE_DB_PATH (${message})`;
  }
  return message;
};

const runCollector = async (flags: Record<string, string | boolean | undefined>) => {
  let config;
  try {
    config = parseConfig({ flags, env: process.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`mcpscope collector: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger({ level: config.logLevel });
  let collector;
  try {
    collector = await startCollector(config, { logger });
  } catch (error) {
    process.stderr.write(`mcpscope collector: ${startFailure(error, config)}\n`);
    process.exitCode = 1;
    return;
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const grpcUrl = `http://${host}:${collector.grpcPort}`;
  process.stdout.write(
    [
      'mcpscope collector is listening',
      `  OTLP/gRPC   ${grpcUrl}`,
      `  OTLP/HTTP   ${collector.url}/v1/traces`,
      `  Web view    ${collector.url}/`,
      `  API         ${collector.url}/api/tasks`,
      `  Metrics     ${collector.url}/metrics`,
      `  Database    ${config.dbPath}`,
      exporterHint(grpcUrl, collector.url),
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal; exiting without flushing', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('stopping', { signal });
    collector.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: errorKind(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

interface TasksOptions {
  url: string;
  limit: string;
  outcome?: string;
  service?: string;
  tool?: string;
  since?: string;
  token?: string;
  json?: boolean;
}

const runTasks = async (options: TasksOptions) => {
  const url = new URL('/api/tasks', options.url);
  url.searchParams.set('limit', options.limit);
  if (options.outcome !== undefined) url.searchParams.set('outcome', options.outcome);
  if (options.service !== undefined) url.searchParams.set('service', options.service);
  if (options.tool !== undefined) url.searchParams.set('tool', options.tool);
  if (options.since !== undefined) url.searchParams.set('from', sinceToFrom(options.since));
  const token = options.token ?? process.env.MCPSCOPE_API_TOKEN;
  let response: Response;
  try {
    response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  } catch {
    process.stderr.write(
      `mcpscope tasks: no collector answered at ${url.origin}; is it running? Give its HTTP address with --url or MCPSCOPE_COLLECTOR_URL\n`,
    );
    process.exitCode = 1;
    return;
  }
  const body = (await response.json().catch(() => null)) as {
    tasks?: TaskSummary[];
    message?: string;
  } | null;
  if (!response.ok || body?.tasks === undefined) {
    process.stderr.write(
      `mcpscope tasks: ${response.status} ${terminalSafe(body?.message ?? response.statusText)}\n`,
    );
    process.exitCode = 1;
    return;
  }
  if (options.json) process.stdout.write(`${terminalSafeJson(body)}\n`);
  else process.stdout.write(body.tasks.length === 0 ? 'no tasks yet\n' : `${formatTaskTable(body.tasks)}\n`);
};

interface TaskOptions {
  url: string;
  token?: string;
  json?: boolean;
}

const runTask = async (taskId: string, options: TaskOptions) => {
  const url = new URL(`/api/tasks/${encodeURIComponent(taskId)}`, options.url);
  const token = options.token ?? process.env.MCPSCOPE_API_TOKEN;
  let response: Response;
  try {
    response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  } catch {
    process.stderr.write(`mcpscope task: no collector answered at ${url.origin}\n`);
    process.exitCode = 1;
    return;
  }
  const body = (await response.json().catch(() => null)) as (TaskDetail & { message?: string }) | null;
  if (!response.ok || body?.task === undefined) {
    process.stderr.write(
      `mcpscope task: ${response.status} ${terminalSafe(body?.message ?? response.statusText)}\n`,
    );
    process.exitCode = 1;
    return;
  }
  if (options.json) {
    process.stdout.write(`${terminalSafeJson(body)}\n`);
    return;
  }
  const page = new URL(`/tasks/${encodeURIComponent(taskId)}`, options.url);
  process.stdout.write(`${formatTaskWaterfall(body)}\n\nIn the web view: ${page.href}\n`);
};

const program = new Command('mcpscope')
  .description('Observability for MCP servers and the agents that call them.')
  // A command line it cannot read exits 2, as a bad setting does; help exits 0.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

/** The default a setting takes, for --help; none for settings that are off unless given. */
const defaultShown = (value: unknown): string => {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return '';
  return ` (default: ${Array.isArray(value) ? value.join(',') : String(value)})`;
};

const collectorCommand = program
  .command('collector')
  .description('Run the collector: OTLP in, DuckDB, task rollups, /api and /metrics out.');
for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
  const flags = BOOLEAN_SETTINGS.has(name) ? spec.flag : `${spec.flag} <value>`;
  collectorCommand.addOption(
    new Option(flags, `${spec.description} [${spec.env}]${defaultShown(spec.default)}`),
  );
}
collectorCommand.action((flags: Record<string, string | boolean | undefined>) => runCollector(flags));

program
  .command('tasks')
  .description('Print recent agent tasks from a running collector.')
  .addOption(
    new Option('--url <url>', 'collector base URL (OTLP/HTTP and API port) [MCPSCOPE_COLLECTOR_URL]')
      .env('MCPSCOPE_COLLECTOR_URL')
      .default('http://127.0.0.1:4318'),
  )
  .option('--limit <n>', 'how many tasks', '20')
  .option('--outcome <outcome>', 'only tasks with this outcome (success, recovered, failed)')
  .option('--service <name>', 'only tasks that involve this service')
  .option('--tool <name>', 'only tasks that called this tool')
  .option('--since <when>', 'only tasks started since: 15m, 2h, 7d, an ISO 8601 time or Unix ms')
  .option('--json', "print the API's JSON instead of a table")
  .option('--token <token>', 'bearer token for the API [MCPSCOPE_API_TOKEN]')
  .action(runTasks);

program
  .command('task')
  .description(
    "Print one agent task's calls in time order, with retries and errors, from a running collector.",
  )
  .argument('<id>', 'task id, as `mcpscope tasks` lists it')
  .option('--url <url>', 'collector base URL', 'http://127.0.0.1:4318')
  .option('--json', "print the API's JSON instead of the waterfall")
  .option('--token <token>', 'bearer token for the API [MCPSCOPE_API_TOKEN]')
  .action(runTask);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`mcpscope: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
