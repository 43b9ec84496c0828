import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  alertmanagerConfig,
  NON_PAGING_WEBHOOK_PLACEHOLDER,
  ON_CALL_WEBHOOK_PLACEHOLDER,
  renderPrometheusRules,
} from '../../../alerts/src/index.js';
import { expandGrafanaVariables, listPanelQueries } from '../../../dashboards/src/index.js';
import { startCollectorProcess, type CollectorProcess } from '../support/collector-process.js';
import { ensureDebianTool } from '../support/debian-tools.js';
import { eventually, freePort } from '../support/processes.js';
import { startPrometheusStack, type PrometheusStack } from '../support/prometheus-stack.js';

const SERVICE = 'slow-server';
const TOOL = 'slow_tool';
/** A tool that always takes about 2 s: 2.000 to 2.039 s, as a timer-bound tool measures. */
const DURATIONS_S = Array.from({ length: 40 }, (_, index) => 2 + index / 1000);
const ROUNDS = 4;

/** Nearest-rank percentile of what was sent. */
const truePercentile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(q * sorted.length) - 1] ?? Number.NaN;
};

/** Server spans of `tools/call slow_tool` with the given durations, as OTLP/JSON. */
const serverSpans = (durations: readonly number[]) => {
  const end = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] },
        scopeSpans: [
          {
            scope: { name: 'latency-check' },
            spans: durations.map((seconds) => ({
              traceId: randomBytes(16).toString('hex'),
              spanId: randomBytes(8).toString('hex'),
              name: `tools/call ${TOOL}`,
              kind: 2,
              startTimeUnixNano: String(end - BigInt(Math.round(seconds * 1e9))),
              endTimeUnixNano: String(end),
              attributes: [
                { key: 'mcp.method.name', value: { stringValue: 'tools/call' } },
                { key: 'gen_ai.tool.name', value: { stringValue: TOOL } },
                { key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } },
              ],
              status: { code: 1 },
            })),
          },
        ],
      },
    ],
  };
};

let dir: string;
let collector: CollectorProcess;
let stack: PrometheusStack;

beforeAll(async () => {
  ensureDebianTool('prometheus');
  const alertmanagerBinary = ensureDebianTool('alertmanager');
  dir = await mkdtemp(join(tmpdir(), 'mcpscope-latency-'));
  const httpPort = await freePort();
  collector = await startCollectorProcess({
    httpPort,
    grpcPort: await freePort(),
    dbPath: join(dir, 'latency.duckdb'),
  });
  stack = await startPrometheusStack({
    dir,
    collectorTarget: `127.0.0.1:${httpPort}`,
    rules: renderPrometheusRules(),
    alertmanagerConfig: stringify(alertmanagerConfig())
      .replaceAll(ON_CALL_WEBHOOK_PLACEHOLDER, '{{WEBHOOK_URL}}')
      .replaceAll(NON_PAGING_WEBHOOK_PLACEHOLDER, '{{WARNING_WEBHOOK_URL}}'),
    alertmanagerBinary,
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await collector?.process.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('latency on the dashboards', () => {
  it(
    'shows the p95 of a tool that always takes 2 s within 20% of the true value',
    { timeout: 120_000 },
    async () => {
      // In rounds a few scrapes apart, as calls arrive: rate() needs the counters to rise between scrapes.
      const perRound = DURATIONS_S.length / ROUNDS;
      for (let round = 0; round < ROUNDS; round += 1) {
        const response = await fetch(`${collector.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(serverSpans(DURATIONS_S.slice(round * perRound, (round + 1) * perRound))),
        });
        expect(response.status, await response.text()).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 2_500));
      }

      const panel = listPanelQueries().find(
        (query) => query.dashboardUid === 'mcpscope-tool' && query.panelTitle === 'p95 latency',
      );
      expect(panel, 'the tool dashboard has a p95 latency panel').toBeDefined();
      const expr = expandGrafanaVariables(panel?.expr ?? '', {
        rateInterval: '1m',
        variables: { service: SERVICE, tool: TOOL },
      });
      const shown = await eventually(
        async () => {
          const value = Number((await stack.query(expr))[0]?.value[1]);
          return Number.isFinite(value) ? value : undefined;
        },
        { what: `a value for ${expr}` },
      );
      const truth = truePercentile(DURATIONS_S, 0.95);
      const fromApi = (
        (await (await fetch(`${collector.url}/api/tools`)).json()) as {
          tools: Array<{ tool: string; p95Ms: number }>;
        }
      ).tools.find((tool) => tool.tool === TOOL)?.p95Ms;
      console.info(`p95 of ${TOOL}: dashboard ${shown.toFixed(3)} s, true ${truth} s, API ${fromApi} ms`);
      expect(Math.abs(shown - truth) / truth).toBeLessThan(0.2);
    },
  );
});
