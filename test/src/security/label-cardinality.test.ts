import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../../collector/src/app.js';
import { collectorConfig } from '../../../collector/src/config/index.js';

const SERVICES = 10_000;
const ERROR_TYPES = 3_000;
const PER_REQUEST = 1_000;

const text = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** Spans `from` to `to`: each a failed tool call of its own service, error type and method. */
const exportRequest = (from: number, to: number) => {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: Array.from({ length: to - from }, (_, offset) => {
      const index = from + offset;
      return {
        resource: { attributes: [text('service.name', `tenant-service-${index}`)] },
        scopeSpans: [
          {
            scope: { name: 'cardinality-test' },
            spans: [
              {
                traceId: randomBytes(16).toString('hex'),
                spanId: randomBytes(8).toString('hex'),
                name: 'tools/call lookup',
                kind: 2,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 1_000_000n),
                attributes: [
                  text('mcp.method.name', index % 2 === 0 ? 'tools/call' : `custom/method-${index}`),
                  text('gen_ai.tool.name', `tool-${index}`),
                  text('error.type', `BackendError${index % ERROR_TYPES}`),
                ],
                status: { code: 2 },
              },
            ],
          },
        ],
      };
    }),
  };
};

let dataDir: string;
let collector: RunningCollector;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mcpscope-cardinality-'));
  collector = await startCollector(
    collectorConfig({
      httpPort: 0,
      grpcPort: 0,
      batchIntervalMs: 2,
      dbPath: join(dataDir, 'cardinality.duckdb'),
    }),
  );
}, 60_000);

afterAll(async () => {
  await collector?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** The distinct values of `label` over every series in the exposition. */
const labelValues = (exposition: string, label: string): Set<string> =>
  new Set(
    [...exposition.matchAll(new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`, 'g'))].map((m) => m[1]!),
  );

describe('metric label cardinality', () => {
  it('keeps 10,000 services and 3,000 error types within their caps, folds the rest, and says how many', async () => {
    for (let from = 0; from < SERVICES; from += PER_REQUEST) {
      const response = await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(exportRequest(from, from + PER_REQUEST)),
      });
      expect(response.status).toBe(200);
    }
    const exposition = await (await fetch(`${collector.url}/metrics`)).text();
    const services = labelValues(exposition, 'service_name');
    // 200 services of their own, the fold, and the collector's own name on its auth failures.
    expect(services.size).toBeLessThanOrEqual(200 + 2);
    expect(services).toContain('_other');
    expect(services).toContain('tenant-service-0');
    expect(labelValues(exposition, 'error_type').size).toBeLessThanOrEqual(100 + 2);
    expect(labelValues(exposition, 'mcp_method_name').size).toBeLessThanOrEqual(100 + 1);
    const folded = (label: string) =>
      Number(
        new RegExp(`^mcpscope_collector_label_values_folded_total\\{label="${label}"\\} (\\d+)`, 'm').exec(
          exposition,
        )?.[1],
      );
    expect(folded('service_name')).toBe(SERVICES - 200);
    expect(folded('error_type')).toBeGreaterThan(0);
    expect(folded('mcp_method_name')).toBeGreaterThan(0);
    // A scrape a Prometheus takes in its stride (10,000 services unfolded made over 280,000 lines).
    const samples = exposition.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(samples.length).toBeLessThan(25_000);
    expect(exposition.length).toBeLessThan(5 * 1024 * 1024);
  }, 120_000);
});
