import { describe, expect, it } from 'vitest';
import { ConfigError, collectorConfig, isLoopbackHost, parseConfig } from './collector-config.js';

const failure = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('collector configuration', () => {
  it('defaults to loopback, the OTLP ports and a file under ./data', () => {
    expect(parseConfig({ env: {} })).toMatchObject({
      host: '127.0.0.1',
      grpcPort: 4317,
      httpPort: 4318,
      dbPath: './data/mcpscope.duckdb',
      taskSettleSeconds: 30,
      authTokens: [],
      allowInsecureRemote: false,
    });
  });

  it('reads MCPSCOPE_* variables, and flags win over them', () => {
    const config = parseConfig({
      env: {
        MCPSCOPE_GRPC_PORT: '14317',
        MCPSCOPE_HTTP_PORT: '14318',
        MCPSCOPE_AUTH_TOKENS: `${'1'.repeat(32)}, ${'2'.repeat(40)}`,
        MCPSCOPE_REDACTION_RULES: '[{"name":"employee_id","value":"EMP-[0-9]{6}"}]',
        MCPSCOPE_OIDC_ISSUER: 'https://login.example.com/tenant/v2.0',
        MCPSCOPE_OIDC_AUDIENCE: 'api://mcpscope',
        MCPSCOPE_OIDC_JWKS_URL: 'https://login.example.com/tenant/discovery/v2.0/keys',
      },
      flags: { httpPort: '9999', retentionDays: '3' },
    });
    expect(config).toMatchObject({
      grpcPort: 14317,
      httpPort: 9999,
      retentionDays: 3,
      authTokens: ['1'.repeat(32), '2'.repeat(40)],
      redactionRules: [{ name: 'employee_id', value: 'EMP-[0-9]{6}' }],
      oidc: { issuer: 'https://login.example.com/tenant/v2.0', audience: ['api://mcpscope'] },
    });
  });

  it('names the setting and what it expected, without repeating the value', () => {
    const message = failure(() => parseConfig({ env: { MCPSCOPE_GRPC_PORT: 'not-a-port-70000' } }));
    expect(message).toBe(
      'invalid setting grpcPort (--grpc-port or MCPSCOPE_GRPC_PORT): expected an integer from 0 to 65535',
    );
    expect(failure(() => parseConfig({ env: {}, flags: { httpPort: '70000' } }))).toContain('httpPort');
    const badPattern = failure(() =>
      parseConfig({ env: { MCPSCOPE_REDACTION_RULES: '[{"name":"x","key":"(secret-part"}]' } }),
    );
    expect(badPattern).toContain('redactionRules');
    expect(badPattern).toContain('(a pattern is not a valid regular expression)');
    expect(badPattern).not.toContain('secret-part');
    expect(failure(() => parseConfig({ env: { MCPSCOPE_ALLOW_INSECURE_REMOTE: 'maybe' } }))).toContain(
      'MCPSCOPE_ALLOW_INSECURE_REMOTE',
    );
    expect(
      failure(() => parseConfig({ env: { MCPSCOPE_OIDC_ISSUER: 'https://issuer.example.com' } })),
    ).toContain('oidcAudience');
    expect(failure(() => parseConfig({ env: { MCPSCOPE_FORWARD_ENDPOINT: 'ftp://x' } }))).toContain(
      'forwardEndpoint',
    );
    expect(failure(() => parseConfig({ env: { MCPSCOPE_GRAFANA_URL: 'grafana:3000' } }))).toContain(
      'grafanaUrl (--grafana-url or MCPSCOPE_GRAFANA_URL): expected an http(s) URL',
    );
    expect(
      failure(() => parseConfig({ env: { MCPSCOPE_TRACE_URL: 'http://jaeger:16686/trace/' } })),
    ).toContain('traceUrl (--trace-url or MCPSCOPE_TRACE_URL): expected an http(s) URL containing {traceId}');
  });

  it('refuses a non-loopback host without authentication unless told it is fine', () => {
    expect(failure(() => parseConfig({ env: { MCPSCOPE_HOST: '0.0.0.0' } }))).toMatch(
      /^invalid setting host .*authentication/,
    );
    expect(
      parseConfig({ env: { MCPSCOPE_HOST: '0.0.0.0', MCPSCOPE_AUTH_TOKENS: 't'.repeat(32) } }).host,
    ).toBe('0.0.0.0');
    expect(
      parseConfig({ env: { MCPSCOPE_HOST: '0.0.0.0' }, flags: { allowInsecureRemote: true } }).host,
    ).toBe('0.0.0.0');
    expect(() => collectorConfig({ host: '10.0.0.5' })).toThrow(ConfigError);
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.5', 'example.com'].some(isLoopbackHost)).toBe(false);
  });

  it('refuses at start-up a static token short enough to guess, naming the setting but not the token', () => {
    const short = 'hunter2-but-longer';
    const message = failure(() =>
      parseConfig({ env: { MCPSCOPE_AUTH_TOKENS: `${'k'.repeat(40)},${short}` } }),
    );
    expect(message).toMatch(
      /^invalid setting authTokens \(--auth-tokens or MCPSCOPE_AUTH_TOKENS\): each token needs at least 32 characters/,
    );
    expect(message).not.toContain(short);
    expect(parseConfig({ env: { MCPSCOPE_AUTH_TOKENS: 'k'.repeat(32) } }).authTokens).toEqual([
      'k'.repeat(32),
    ]);
  });
});
