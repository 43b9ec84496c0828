import { isIP } from 'node:net';
import { MIN_STATIC_TOKEN_LENGTH } from './security-settings.js';
import { SETTINGS, type RedactionRuleSetting, type SettingName, type SettingSpec } from './settings.js';

export interface CollectorConfig {
  host: string;
  grpcPort: number;
  httpPort: number;
  dbPath: string;
  retentionDays: number;
  queueCapacity: number;
  queueCapacityBytes: number;
  batchSize: number;
  batchIntervalMs: number;
  taskSettleSeconds: number;
  maxToolsPerService: number;
  maxBodyBytes: number;
  maxDecompressedBytes: number;
  maxSpansPerRequest: number;
  maxAttributeValueLength: number;
  authTokens: string[];
  /** `jwksMaxAgeSeconds` (default 600) is not a setting: embedders and tests may shorten it. */
  oidc?: { issuer: string; audience: string[]; jwksUrl: string; jwksMaxAgeSeconds?: number };
  allowInsecureRemote: boolean;
  allowedHosts: string[];
  forwardEndpoint?: string;
  grafanaUrl?: string;
  traceUrl?: string;
  redactionRules: RedactionRuleSetting[];
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  decodeWorkers: number;
  duckdbThreads: number;
  duckdbMemoryLimit: string;
  maxTaskSpans: number;
  authFailureLimit: number;
  oidcRequireExp: boolean;
  oidcJwksGraceSeconds: number;
  maxServices: number;
  maxLabelValues: number;
  maxConnections: number;
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  maxClockSkewSeconds: number;
}

/** A setting that cannot be used; the message names it and says what it expected, never its value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ConfigSources {
  /** Values from command-line flags, by setting name (as commander gives them, strings). */
  flags?: Partial<Record<SettingName, string | boolean | undefined>>;
  env?: Readonly<Record<string, string | undefined>>;
}

const describe = (name: SettingName): string => {
  const spec = SETTINGS[name];
  return `${name} (${spec.flag} or ${spec.env})`;
};

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost', '::1']);

export const isLoopbackHost = (host: string): boolean => {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(bare)) return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
};

/** Reads every setting once, at start-up. Throws {@link ConfigError} naming the first bad setting. */
export const parseConfig = ({ flags = {}, env = process.env }: ConfigSources = {}): CollectorConfig => {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec<unknown>][]) {
    const flag = flags[name];
    const raw = flag === undefined ? env[spec.env] : String(flag);
    if (raw === undefined || (raw.trim() === '' && flag === undefined)) {
      values[name] = spec.default;
      continue;
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      // Only the schema's own fixed sentences are added: a message never repeats the value given.
      const reason = parsed.error.issues.find((issue) => issue.code === 'custom')?.message;
      throw new ConfigError(
        `invalid setting ${describe(name)}: expected ${spec.expected}${reason ? ` (${reason})` : ''}`,
      );
    }
    values[name] = parsed.data;
  }
  const { oidcIssuer, oidcAudience, oidcJwksUrl, ...rest } = values as Omit<CollectorConfig, 'oidc'> & {
    oidcIssuer?: string;
    oidcAudience?: string[];
    oidcJwksUrl?: string;
  };
  const oidcParts = [oidcIssuer, oidcAudience, oidcJwksUrl].filter((part) => part !== undefined).length;
  if (oidcParts !== 0 && oidcParts !== 3) {
    const missing = (['oidcIssuer', 'oidcAudience', 'oidcJwksUrl'] as const).find(
      (name) => values[name] === undefined,
    ) as SettingName;
    throw new ConfigError(
      `invalid setting ${describe(missing)}: OIDC needs an issuer, an audience and a JWKS URL together`,
    );
  }
  const config: CollectorConfig = {
    ...rest,
    ...(oidcIssuer !== undefined && oidcAudience !== undefined && oidcJwksUrl !== undefined
      ? { oidc: { issuer: oidcIssuer, audience: oidcAudience, jwksUrl: oidcJwksUrl } }
      : {}),
  };
  if (config.authTokens.some((token) => token.length < MIN_STATIC_TOKEN_LENGTH)) {
    throw new ConfigError(
      `invalid setting ${describe('authTokens')}: each token needs at least ${MIN_STATIC_TOKEN_LENGTH} characters ` +
        '(a short one can be guessed; `openssl rand -hex 32` makes a good one)',
    );
  }
  if (config.forwardEndpoint === undefined) delete config.forwardEndpoint;
  if (config.grafanaUrl === undefined) delete config.grafanaUrl;
  if (config.traceUrl === undefined) delete config.traceUrl;
  const authConfigured = config.authTokens.length > 0 || config.oidc !== undefined;
  if (!isLoopbackHost(config.host) && !authConfigured && !config.allowInsecureRemote) {
    throw new ConfigError(
      `invalid setting ${describe('host')}: a non-loopback address needs ingest authentication ` +
        `(${SETTINGS.authTokens.env} or the MCPSCOPE_OIDC_* settings), or ${SETTINGS.allowInsecureRemote.flag} ` +
        'to accept unauthenticated traffic from the network',
    );
  }
  return config;
};

/** The defaults, with overrides: for embedding and tests. Checks the same rules as {@link parseConfig}. */
export const collectorConfig = (overrides: Partial<CollectorConfig> = {}): CollectorConfig => {
  const config = { ...parseConfig({ env: {} }), ...overrides };
  const authConfigured = config.authTokens.length > 0 || config.oidc !== undefined;
  if (!isLoopbackHost(config.host) && !authConfigured && !config.allowInsecureRemote) {
    throw new ConfigError(
      `invalid setting ${describe('host')}: a non-loopback address needs ingest authentication`,
    );
  }
  return config;
};
