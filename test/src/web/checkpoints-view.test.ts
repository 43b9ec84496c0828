import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../../collector/src/app.js';
import { collectorConfig } from '../../../collector/src/config/index.js';
import {
  emitScenario,
  SCENARIO_TASK,
  scenarioTruth,
  startExporters,
  type ScenarioExporters,
} from '../support/checkpoint-scenario.js';
import { ensureDebianTool } from '../support/debian-tools.js';
import { eventually } from '../support/processes.js';

/** A task's human checkpoints on its page, in Chromium, from the scenario's spans. */

let dir: string;
let collector: RunningCollector;
let exporters: ScenarioExporters;
let browser: Browser;

beforeAll(async () => {
  const executablePath = ensureDebianTool('chromium');
  dir = await mkdtemp(join(tmpdir(), 'mcpscope-checkpoints-web-'));
  collector = await startCollector(
    collectorConfig({ httpPort: 0, grpcPort: 0, batchIntervalMs: 2, dbPath: join(dir, 'mcpscope.duckdb') }),
  );
  exporters = startExporters({ grpcUrl: `http://127.0.0.1:${collector.grpcPort}`, httpUrl: collector.url });
  await emitScenario(exporters);
  await eventually(
    async () => {
      const response = await fetch(`${collector.url}/api/checkpoints`);
      return ((await response.json()) as { total: number }).total === 9 ? true : undefined;
    },
    { what: 'the scenario’s nine checkpoints', timeoutMs: 20_000 },
  );
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await exporters?.shutdown();
  await collector?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the task page in Chromium', () => {
  it("shows the task's checkpoints, their waits and the verdicts of its writes", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(`${collector.url}/tasks/${SCENARIO_TASK}`);
    const rows = page.locator('table.checkpoints tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(9);
    const byId = Object.fromEntries(
      await rows.evaluateAll((trs) =>
        trs.map((tr) => [
          tr.querySelector('th')?.textContent?.trim() ?? '',
          [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''),
        ]),
      ),
    ) as Record<string, string[]>;
    expect(byId['cp-out-of-order']?.slice(0, 3)).toEqual(['apply', 'approved', '8.00 s']);
    expect(byId['cp-out-of-order']?.[4]).toBe('approved');
    expect(byId['cp-modified']?.[4]).toBe('modified');
    expect(byId['cp-stale']?.[4]).toBe('stale');
    expect(byId['cp-rejected-ran']?.[4]).toBe('unapproved');
    expect(byId['cp-orphan']?.[4]).toBe('approved, orphaned');
    expect(byId['cp-pending']?.[1]).toBe('pending');
    expect(byId['cp-pending']?.[2]).toMatch(/^pending for 2\.\d min$/);
    const summary = await page.locator('.checkpoint-summary').innerText();
    const { checkpoints: c, writes: w } = scenarioTruth;
    expect(summary).toContain(
      `${c.approved} approved, ${c.rejected} rejected, ${c.expired} expired, ${c.cancelled} cancelled, ${c.pending} pending`,
    );
    expect(summary).toContain(
      `${w.modified} modified after approval, ${w.unapproved} without approval, ${w.stale} on a changed state, ` +
        `${w.approved} as approved, ${w.notExecuted} not executed, ${w.orphaned} orphaned`,
    );
    expect(await page.locator('table.writes tbody tr').count()).toBe(8);
    expect(problems).toEqual([]);
    await page.close();
  });
});
