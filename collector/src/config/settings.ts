import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { booleanFlag, commaList, httpUrl, integer, positiveNumber, setting } from './setting-schemas.js';
import { SECURITY_SETTINGS } from './security-settings.js';

export type { SettingSpec } from './setting-schemas.js';

/** One decoding worker per core beside the main thread, which appends to DuckDB; 1 to 4. */
const defaultDecodeWorkers = (): number => Math.max(1, Math.min(4, availableParallelism() - 1));

export interface RedactionRuleSetting {
  name: string;
  key?: string;
  value?: string;
}

const redactionRules = z
  .string()
  .transform((value, context) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      context.addIssue({ code: z.ZodIssueCode.custom, message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z.array(
      z
        .object({
          name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
          key: z.string().min(1).max(1000).optional(),
          value: z.string().min(1).max(1000).optional(),
        })
        .strict()
        .refine((rule) => rule.key !== undefined || rule.value !== undefined, {
          message: 'a rule needs a key or a value pattern',
        })
        .refine(
          (rule) => [rule.key, rule.value].every((pattern) => pattern === undefined || compiles(pattern)),
          { message: 'a pattern is not a valid regular expression' },
        ),
    ),
  );

const compiles = (pattern: string): boolean => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

/** Every setting of the collector. Flags win over `MCPSCOPE_*` variables, which win over defaults. */
export const SETTINGS = {
  host: setting({
    flag: '--host',
    env: 'MCPSCOPE_HOST',
    expected: 'a host name or IP address to listen on',
    description: 'address both receivers and the API listen on',
    schema: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .regex(/^[\w.:-]+$/),
    default: '127.0.0.1',
  }),
  grpcPort: setting({
    flag: '--grpc-port',
    env: 'MCPSCOPE_GRPC_PORT',
    expected: 'an integer from 0 to 65535',
    description: 'OTLP/gRPC port (0 picks a free one)',
    schema: integer(0, 65_535),
    default: 4317,
  }),
  httpPort: setting({
    flag: '--http-port',
    env: 'MCPSCOPE_HTTP_PORT',
    expected: 'an integer from 0 to 65535',
    description: 'port of OTLP/HTTP, /api, /metrics, /healthz and /readyz (0 picks a free one)',
    schema: integer(0, 65_535),
    default: 4318,
  }),
  dbPath: setting({
    flag: '--db-path',
    env: 'MCPSCOPE_DB_PATH',
    expected: 'a file path',
    description: 'DuckDB database file',
    schema: z.string().trim().min(1),
    default: './data/mcpscope.duckdb',
  }),
  retentionDays: setting({
    flag: '--retention-days',
    env: 'MCPSCOPE_RETENTION_DAYS',
    expected: 'a positive number of days',
    description: 'how long raw spans are kept (rollups are kept longer)',
    schema: positiveNumber,
    default: 7,
  }),
  queueCapacity: setting({
    flag: '--queue-capacity',
    env: 'MCPSCOPE_QUEUE_CAPACITY',
    expected: 'an integer from 1 to 10000000',
    description: 'spans waiting for commit before ingest answers "retry later"',
    schema: integer(1, 10_000_000),
    default: 50_000,
  }),
  queueCapacityBytes: setting({
    flag: '--queue-capacity-bytes',
    env: 'MCPSCOPE_QUEUE_CAPACITY_BYTES',
    expected: 'an integer from 1048576 to 4294967296',
    description:
      'request bytes waiting for commit before ingest answers "retry later" (bounds memory whatever the span size)',
    schema: integer(1 << 20, 2 ** 32),
    default: 32 * 1024 * 1024,
  }),
  batchSize: setting({
    flag: '--batch-size',
    env: 'MCPSCOPE_BATCH_SIZE',
    expected: 'an integer from 1 to 1000000',
    description: 'spans per commit',
    schema: integer(1, 1_000_000),
    default: 2_000,
  }),
  batchIntervalMs: setting({
    flag: '--batch-interval-ms',
    env: 'MCPSCOPE_BATCH_INTERVAL_MS',
    expected: 'an integer from 0 to 60000',
    description:
      'how long a partial batch waits before it is committed (0: at once; requests arriving during a commit form the next)',
    schema: integer(0, 60_000),
    default: 0,
  }),
  taskSettleSeconds: setting({
    flag: '--task-settle-seconds',
    env: 'MCPSCOPE_TASK_SETTLE_SECONDS',
    expected: 'an integer from 1 to 86400',
    description: 'idle time after which a task is counted by outcome in the metrics',
    schema: integer(1, 86_400),
    default: 30,
  }),
  maxToolsPerService: setting({
    flag: '--max-tools-per-service',
    env: 'MCPSCOPE_MAX_TOOLS_PER_SERVICE',
    expected: 'an integer from 1 to 10000',
    description: 'distinct tool names per service kept as metric label values',
    schema: integer(1, 10_000),
    default: 100,
  }),
  maxBodyBytes: setting({
    flag: '--max-body-bytes',
    env: 'MCPSCOPE_MAX_BODY_BYTES',
    expected: 'an integer from 1024 to 1073741824',
    description: 'largest OTLP request body as received',
    schema: integer(1024, 1 << 30),
    default: 4 * 1024 * 1024,
  }),
  maxDecompressedBytes: setting({
    flag: '--max-decompressed-bytes',
    env: 'MCPSCOPE_MAX_DECOMPRESSED_BYTES',
    expected: 'an integer from 1024 to 1073741824',
    description: 'largest OTLP request body after gunzip',
    schema: integer(1024, 1 << 30),
    default: 16 * 1024 * 1024,
  }),
  maxSpansPerRequest: setting({
    flag: '--max-spans-per-request',
    env: 'MCPSCOPE_MAX_SPANS_PER_REQUEST',
    expected: 'an integer from 1 to 1000000',
    description: 'most spans in one OTLP request',
    schema: integer(1, 1_000_000),
    default: 10_000,
  }),
  maxAttributeValueLength: setting({
    flag: '--max-attribute-value-length',
    env: 'MCPSCOPE_MAX_ATTRIBUTE_VALUE_LENGTH',
    expected: 'an integer from 16 to 16777216',
    description: 'longer attribute strings are truncated and marked',
    schema: integer(16, 16 * 1024 * 1024),
    default: 16 * 1024,
  }),
  authTokens: setting({
    flag: '--auth-tokens',
    env: 'MCPSCOPE_AUTH_TOKENS',
    expected: 'a comma-separated list of bearer tokens',
    description: 'static bearer tokens accepted on ingest and the API',
    schema: commaList,
    default: [] as string[],
  }),
  oidcIssuer: setting<string | undefined>({
    flag: '--oidc-issuer',
    env: 'MCPSCOPE_OIDC_ISSUER',
    expected: 'an http(s) URL',
    description: 'expected iss of OIDC JWTs (e.g. https://login.microsoftonline.com/<tenant>/v2.0)',
    schema: httpUrl,
    default: undefined,
  }),
  oidcAudience: setting<string[] | undefined>({
    flag: '--oidc-audience',
    env: 'MCPSCOPE_OIDC_AUDIENCE',
    expected: 'a comma-separated list of audiences',
    description: 'accepted aud of OIDC JWTs',
    schema: commaList,
    default: undefined,
  }),
  oidcJwksUrl: setting<string | undefined>({
    flag: '--oidc-jwks-url',
    env: 'MCPSCOPE_OIDC_JWKS_URL',
    expected: 'an http(s) URL',
    description: 'JWKS URL of the OIDC issuer',
    schema: httpUrl,
    default: undefined,
  }),
  allowedHosts: setting({
    flag: '--allowed-hosts',
    env: 'MCPSCOPE_ALLOWED_HOSTS',
    expected: 'a comma-separated list of host names (or * for any)',
    description:
      'names the HTTP side answers to besides IP addresses and localhost (a Host check against DNS rebinding)',
    schema: commaList.pipe(z.array(z.string().regex(/^(?:\*|[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252}))$/))),
    default: [] as string[],
  }),
  allowInsecureRemote: setting({
    flag: '--allow-insecure-remote',
    env: 'MCPSCOPE_ALLOW_INSECURE_REMOTE',
    expected: 'true or false',
    description: 'listen on a non-loopback address without authentication',
    schema: booleanFlag,
    default: false,
  }),
  forwardEndpoint: setting<string | undefined>({
    flag: '--forward-endpoint',
    env: 'MCPSCOPE_FORWARD_ENDPOINT',
    expected: 'an http(s) URL of an OTLP/HTTP endpoint',
    description: 'forward redacted spans to this OTLP/HTTP endpoint after commit',
    schema: httpUrl,
    default: undefined,
  }),
  grafanaUrl: setting<string | undefined>({
    flag: '--grafana-url',
    env: 'MCPSCOPE_GRAFANA_URL',
    expected: 'an http(s) URL',
    description: "Grafana that shows mcpscope's dashboards; the web view links to them",
    schema: httpUrl,
    default: undefined,
  }),
  traceUrl: setting<string | undefined>({
    flag: '--trace-url',
    env: 'MCPSCOPE_TRACE_URL',
    expected: 'an http(s) URL containing {traceId}',
    description:
      'a trace in the tracing backend that receives forwarded spans, {traceId} standing for its id; the web view links to it',
    schema: httpUrl.refine((value) => value.includes('{traceId}')),
    default: undefined,
  }),
  redactionRules: setting({
    flag: '--redaction-rules',
    env: 'MCPSCOPE_REDACTION_RULES',
    expected: 'a JSON array of { "name": "snake_case", "key"?: "regex", "value"?: "regex" }',
    description: 'extra redaction rules, applied with the built-in ones',
    schema: redactionRules,
    default: [] as RedactionRuleSetting[],
  }),
  logLevel: setting({
    flag: '--log-level',
    env: 'MCPSCOPE_LOG_LEVEL',
    expected: 'one of debug, info, warn, error',
    description: 'least severe level written to stderr',
    schema: z.enum(['debug', 'info', 'warn', 'error']),
    default: 'info' as const,
  }),
  maxTaskSpans: setting({
    flag: '--max-task-spans',
    env: 'MCPSCOPE_MAX_TASK_SPANS',
    expected: 'an integer from 1000 to 100000000',
    description:
      'spans a task may hold and still be recomputed when spans reach back into it; a larger task keeps the rollup it had (a recompute holds the task in memory)',
    schema: integer(1000, 100_000_000),
    default: 100_000,
  }),
  decodeWorkers: setting({
    flag: '--decode-workers',
    env: 'MCPSCOPE_DECODE_WORKERS',
    expected: 'an integer from 0 to 16',
    description:
      'worker threads that decode and redact requests, keeping the main thread free for commits and the API (0: decode on the main thread; default: one per core beside the main thread, 1 to 4)',
    schema: integer(0, 16),
    default: defaultDecodeWorkers(),
  }),
  duckdbThreads: setting({
    flag: '--duckdb-threads',
    env: 'MCPSCOPE_DUCKDB_THREADS',
    expected: 'an integer from 1 to 64',
    description: 'DuckDB worker threads',
    schema: integer(1, 64),
    default: 2,
  }),
  duckdbMemoryLimit: setting({
    flag: '--duckdb-memory-limit',
    env: 'MCPSCOPE_DUCKDB_MEMORY_LIMIT',
    expected: 'a size such as 512MB or 2GB',
    description:
      'DuckDB memory limit; the collector stays under about 512 MB RSS under overload with the default',
    schema: z
      .string()
      .trim()
      .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i),
    // 64 MB failed allocations under load; the limit is DuckDB's share of a ~512 MB process.
    default: '256MB',
  }),
  ...SECURITY_SETTINGS,
};

export type SettingName = keyof typeof SETTINGS;
