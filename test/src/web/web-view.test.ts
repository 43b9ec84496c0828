import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ATTR_MCPSCOPE_TASK_ID } from '@mcpscope/instrumentation/conventions';
import { startCollector, type RunningCollector } from '../../../collector/src/app.js';
import { collectorConfig, type CollectorConfig } from '../../../collector/src/config/index.js';
import type { SpanRecord } from '../../../collector/src/model/span.js';
import { encodeTraceRequest } from '../../../collector/src/otlp/encode.js';
import { makeSpan, toolCallSpan } from '../../../collector/src/pipeline/test-support/spans.js';
import { WORKLOAD_TRUTH, workloadBatches } from '../../../collector/src/pipeline/test-support/workload.js';
import type { TaskDetail, ToolSummary } from '../../../collector/src/api/views.js';
import { SERVICE_NAMES, TASKS, taskIdFor } from '../../../examples/src/scenario.mjs';
import { DEMO_AGENT } from '../e2e/stack.js';
import { ensureDebianTool } from '../support/debian-tools.js';
import { startProcess } from '../support/processes.js';

/** Screenshots of every page, for a person to look at after the run. */
const ARTIFACTS = fileURLToPath(new URL('../../../.tmp/artifacts/web-view/', import.meta.url));
const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const GRAFANA_URL = 'http://grafana.invalid:3000';
const TRACE_URL = 'http://tracing.invalid:16686/trace/{traceId}';
const HOSTILE_TASK_ID = '<script>window.__mcpscopeOwned=1</script>';
const HOSTILE_TOOL = '<img src=x onerror="window.__mcpscopeOwned=2">';

const cleanups: (() => Promise<void>)[] = [];
let browser: Browser;
let collector: RunningCollector;

const startTestCollector = async (overrides: Partial<CollectorConfig> = {}) => {
  const dir = await mkdtemp(join(tmpdir(), 'mcpscope-web-'));
  const running = await startCollector(
    collectorConfig({
      httpPort: 0,
      grpcPort: 0,
      batchIntervalMs: 2,
      dbPath: join(dir, 'mcpscope.duckdb'),
      ...overrides,
    }),
  );
  cleanups.push(async () => {
    await running.close();
    await rm(dir, { recursive: true, force: true });
  });
  return running;
};

const send = async (spans: readonly SpanRecord[], headers: Record<string, string> = {}) => {
  const response = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...headers },
    body: encodeTraceRequest(spans),
  });
  expect(response.status).toBe(200);
};

/** A task whose id and tool name are markup, and whose arguments hold a script. */
const hostileSpans = (): SpanRecord[] => [
  makeSpan({
    trace: 'hostile',
    span: 'hostile-root',
    name: 'agent.run',
    startMs: 50_000,
    durationMs: 40,
    service: 'agent<b>bold</b>',
    attributes: { [ATTR_MCPSCOPE_TASK_ID]: HOSTILE_TASK_ID },
  }),
  toolCallSpan({
    trace: 'hostile',
    span: 'hostile-call',
    parent: 'hostile-root',
    kind: 'client',
    startMs: 50_005,
    durationMs: 20,
    service: 'agent<b>bold</b>',
    tool: HOSTILE_TOOL,
    fingerprint: 'fp-hostile',
    arguments: { note: '<script>window.__mcpscopeOwned=3</script>' },
  }),
];

interface PageWatch {
  page: Page;
  origin: string;
  problems: string[];
  requests: string[];
}
let watched: PageWatch[] = [];

/** A fresh page that records console errors, page errors, failed requests and every URL it asks for. */
const openPage = async (path: string, origin = collector.url): Promise<PageWatch> => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const watch: PageWatch = { page, origin, problems: [], requests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') watch.problems.push(message.text());
  });
  page.on('pageerror', (error) => watch.problems.push(error.message));
  page.on('request', (request) => watch.requests.push(request.url()));
  page.on('dialog', (dialog) => {
    watch.problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  watched.push(watch);
  await page.goto(new URL(path, origin).href);
  return watch;
};

const screenshot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  const executablePath = ensureDebianTool('chromium');
  await mkdir(ARTIFACTS, { recursive: true });
  collector = await startTestCollector({ grafanaUrl: GRAFANA_URL, traceUrl: TRACE_URL });
  for (const batch of workloadBatches()) await send(batch);
  await send(hostileSpans());
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
}, 120_000);

afterEach(async () => {
  const pages = watched;
  watched = [];
  for (const { page } of pages) await page.close();
  // Every page: no console errors or warnings (a CSP violation is one), nothing asked of another origin.
  for (const { problems, requests, origin } of pages) {
    expect(problems).toEqual([]);
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
  }
});

afterAll(async () => {
  await browser?.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const formatMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);

describe('the web view in Chromium', () => {
  it('lists every task of the workload with the figures of its known truth', async () => {
    const { page } = await openPage('/');
    const rows = page.locator('table.tasks tbody tr');
    await expect.poll(() => rows.count()).toBe(WORKLOAD_TRUTH.length + 1);
    for (const truth of WORKLOAD_TRUTH) {
      const row = rows.filter({ has: page.getByRole('link', { name: truth.taskId, exact: true }) });
      const cells = await row.locator('th, td').allInnerTexts();
      expect(cells).toEqual([
        truth.taskId,
        new Date(Date.UTC(2026, 0, 1) + truth.startMs)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, 'Z'),
        truth.outcome,
        formatMs(truth.durationMs),
        truth.services.join(', '),
        String(truth.toolCalls),
        String(truth.failedCalls),
        String(truth.retries),
        `${truth.inputTokens} / ${truth.outputTokens}`,
        String(truth.authFailures),
        truth.taskId === 'task-d' ? 'correct' : '–',
      ]);
    }
    // Filters and paging are the API's: two failed tasks, one per page.
    await page.getByLabel('Outcome').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/outcome=failed/);
    await expect
      .poll(() => rows.count())
      .toBe(WORKLOAD_TRUTH.filter((task) => task.outcome === 'failed').length);
    const failedIds = WORKLOAD_TRUTH.filter((task) => task.outcome === 'failed').map((task) => task.taskId);
    await page.goto(`${collector.url}/?outcome=failed&limit=1`);
    await expect.poll(() => rows.locator('th').allInnerTexts()).toEqual([failedIds[0]]);
    await page.getByRole('link', { name: 'Older tasks' }).click();
    await expect.poll(() => rows.locator('th').allInnerTexts()).toEqual([failedIds[1]]);
    await page.getByRole('link', { name: 'Newest tasks' }).click();
    await expect.poll(() => rows.locator('th').allInnerTexts()).toEqual([failedIds[0]]);
    await page.goto(collector.url);
    await expect.poll(() => rows.count()).toBe(WORKLOAD_TRUTH.length + 1);
    await screenshot(page, 'tasks');
  });

  it('shows a task whose calls are in time order, the retry linked to the attempt it repeats', async () => {
    const { page } = await openPage('/');
    await page.getByRole('link', { name: 'task-a', exact: true }).click();
    await page.waitForURL(/\/tasks\/task-a$/);
    const calls = page.locator('table.calls tbody tr');
    await expect.poll(() => calls.count()).toBe(4);
    expect(await calls.locator('th').allInnerTexts()).toEqual([
      'plan_changes\ntools/call',
      'apply_changes\ntools/call',
      'apply_changes\ntools/call',
      'plan_changes\ntools/call',
    ]);
    await expect.poll(() => calls.nth(1).locator('td').nth(2).innerText()).toBe('error tool_error');
    await calls.nth(0).getByText('arguments').click();
    expect(JSON.parse(await calls.nth(0).locator('pre').innerText())).toEqual({
      env: 'prod',
      token: '[REDACTED:key_token]',
    });
    const detail = (await (await fetch(`${collector.url}/api/tasks/task-a`)).json()) as TaskDetail;
    const failed = detail.calls[1]!;
    await calls.nth(2).getByRole('link', { name: 'retry of #2' }).click();
    await page.waitForURL(new RegExp(`#call-${failed.spanId}$`));
    await expect.poll(() => page.locator(':target').getAttribute('id')).toBe(`call-${failed.spanId}`);
    expect(await page.locator('.summary').innerText()).toContain('110 / 50');
    // A waterfall: each call's bar starts on one time axis where the call started, later calls further right.
    const barStarts = await calls
      .locator('.bar > span')
      .evaluateAll((bars) => bars.map((bar) => bar.getBoundingClientRect().left));
    expect(detail.calls.map((call) => call.offsetMs)).toEqual(
      [...detail.calls.map((call) => call.offsetMs)].sort((a, b) => a - b),
    );
    expect(detail.calls[0]!.offsetMs).toBeGreaterThanOrEqual(0);
    expect(barStarts.at(-1)!).toBeGreaterThan(barStarts[0]!);
    const traceLinks = page.locator('.traces a');
    expect(await traceLinks.evaluateAll((links) => links.map((link) => link.getAttribute('href')))).toEqual(
      detail.task.traceIds.map((traceId) => TRACE_URL.replace('{traceId}', traceId)),
    );
    const grafana = page.getByRole('link', { name: 'Agent tasks in Grafana' });
    expect(await grafana.getAttribute('href')).toBe(`${GRAFANA_URL}/d/mcpscope-tasks`);
    await screenshot(page, 'task');
  });

  it('records a verdict from the feedback form', async () => {
    const { page } = await openPage(`/tasks/${encodeURIComponent('task-e')}`);
    await page.getByLabel('Incorrect').check();
    await page.getByLabel('Note (optional)').fill('listed the wrong things');
    await page.getByRole('button', { name: 'Record verdict' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toBe('Recorded: incorrect.');
    const detail = (await (await fetch(`${collector.url}/api/tasks/task-e`)).json()) as TaskDetail;
    expect(detail.task.feedback).toMatchObject({ verdict: 'incorrect', note: 'listed the wrong things' });
    await screenshot(page, 'feedback');
  });

  it('shows per-tool percentiles, error rates and a chart of calls over time', async () => {
    const { page } = await openPage('/tools');
    const rows = page.locator('table.tools tbody tr');
    const tools = ((await (await fetch(`${collector.url}/api/tools`)).json()) as { tools: ToolSummary[] })
      .tools;
    await expect.poll(() => rows.count()).toBe(tools.length);
    const apply = tools.find((tool) => tool.tool === 'apply_changes')!;
    const cells = await rows.filter({ hasText: 'apply_changes' }).locator('th, td').allInnerTexts();
    expect(cells).toEqual([
      'apply_changes',
      apply.services.join(', '),
      String(apply.calls),
      formatMs(apply.p50Ms),
      formatMs(apply.p95Ms),
      formatMs(apply.p99Ms),
      `${((100 * apply.errors) / apply.calls).toFixed(1)}%`,
      `tool_error ${apply.errorsByType.tool_error}`,
      String(apply.retries),
    ]);
    await page.getByRole('link', { name: 'apply_changes', exact: true }).click();
    await page.waitForURL(/tool=apply_changes/);
    const chart = page.getByRole('img', { name: 'Calls, errors and retries per minute of apply_changes' });
    await expect.poll(() => chart.locator('canvas').count()).toBe(1);
    const canvas = await chart.locator('canvas').boundingBox();
    expect(canvas?.width).toBeGreaterThan(300);
    expect(await chart.innerText()).toContain('calls');
    await screenshot(page, 'tools');
  });

  it('shows auth failures by side and reason', async () => {
    const { page } = await openPage('/auth');
    const failures = page.locator('table tbody tr').filter({ hasText: 'expired_token' });
    await expect
      .poll(() => failures.locator('td').allInnerTexts())
      .toEqual(['infra-server', 'server', 'expired_token', '1']);
    await expect.poll(() => page.getByRole('link', { name: 'task-c' }).count()).toBe(1);
    await screenshot(page, 'auth');
  });

  it('renders hostile span content as text', async () => {
    const { page } = await openPage('/');
    const link = page.getByRole('link', { name: HOSTILE_TASK_ID, exact: true });
    await expect.poll(() => link.count()).toBe(1);
    await link.click();
    const calls = page.locator('table.calls tbody tr');
    await expect.poll(() => calls.count()).toBe(1);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(`Task ${HOSTILE_TASK_ID}`);
    expect(await calls.locator('th').innerText()).toBe(`${HOSTILE_TOOL}\ntools/call`);
    await calls.getByText('arguments').click();
    expect(await calls.locator('pre').innerText()).toContain('<script>window.__mcpscopeOwned=3</script>');
    expect(await page.locator('img, b').count()).toBe(0);
    expect(await page.evaluate('window.__mcpscopeOwned')).toBeUndefined();
    await screenshot(page, 'hostile');
  });

  it('works from the keyboard: skip link, a task, the feedback form', async () => {
    const { page } = await openPage('/');
    await expect.poll(() => page.locator('table.tasks tbody tr').count()).toBeGreaterThan(0);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    const focusedText = () => page.evaluate('document.activeElement.textContent');
    let presses = 0;
    while ((await focusedText()) !== 'task-d' && presses++ < 60) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/tasks\/task-d$/);
    await expect.poll(() => page.locator('table.calls tbody tr').count()).toBe(1);
    presses = 0;
    while ((await page.evaluate('document.activeElement.value')) !== 'correct' && presses++ < 60) {
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate('document.activeElement.value')).toBe('incorrect');
    await page.keyboard.press('Tab');
    await page.keyboard.type('checked by keyboard');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').innerText()).toBe('Recorded: incorrect.');
    const focusVisible = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    expect(focusVisible).toBe('solid');
  });

  it('passes the WCAG 2 A and AA checks of axe-core on every page', async () => {
    // The policy forbids injected scripts, the checker's included: this context alone bypasses it.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const pages: [string, string][] = [
      ['/', 'table.tasks'],
      ['/tasks/task-a', 'table.calls'],
      ['/tools?tool=apply_changes', '.chart canvas'],
      ['/auth', 'table'],
    ];
    for (const [path, ready] of pages) {
      const page = await context.newPage();
      await page.goto(new URL(path, collector.url).href);
      await page.locator(ready).first().waitFor();
      await page.addScriptTag({ path: AXE_SCRIPT });
      const { passes, violations } = (await page.evaluate(
        `axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] }).then((result) => ({
          passes: result.passes.map((rule) => rule.id),
          violations: result.violations.map((rule) => rule.id + ': ' + rule.nodes.map((node) => node.target.join(' ')).join(', ')),
        }))`,
      )) as { passes: string[]; violations: string[] };
      // The checks ran on the page's content: contrast and names were among those that passed.
      expect(passes, path).toEqual(expect.arrayContaining(['color-contrast', 'link-name']));
      expect(violations, path).toEqual([]);
      await page.close();
    }
    await context.close();
  });

  it('adds tasks to the open list as they arrive', async () => {
    const { page } = await openPage('/');
    const rows = page.locator('table.tasks tbody tr');
    await expect.poll(() => rows.count()).toBe(WORKLOAD_TRUTH.length + 1);
    await send([
      makeSpan({
        trace: 'live',
        span: 'live-root',
        name: 'agent.run',
        startMs: 60_000,
        durationMs: 10,
        service: 'agent',
        attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'task-live' },
      }),
    ]);
    await expect
      .poll(() => page.locator('tr.new').locator('th').allInnerTexts(), { timeout: 15_000 })
      .toEqual(['task-live']);
    await screenshot(page, 'live');
  });
});

describe('the web view and authentication', () => {
  it('asks for the API token and then shows the tasks', async () => {
    const guarded = await startTestCollector({ authTokens: ['web-view-token'] });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(guarded.url);
    await page.getByLabel('API bearer token').fill('web-view-token');
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => page.getByText('No tasks match').count()).toBe(1);
    await page.close();
    expect(problems).toEqual([]);
  });

  it('lets no page of another origin read the API or frame the view', async () => {
    const evil: Server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<!doctype html><iframe id="framed" src="${collector.url}/"></iframe>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => evil.close(() => resolve())));
    const page = await browser.newPage();
    await page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
    const read = await page.evaluate(
      `fetch(${JSON.stringify(`${collector.url}/api/tasks`)}).then((r) => r.text(), (e) => 'blocked: ' + e.name)`,
    );
    expect(read).toBe('blocked: TypeError');
    const framed = page.frames().find((frame) => frame !== page.mainFrame());
    expect(await framed?.locator('table').count()).toBe(0);
    await page.close();
  });
});

describe("the web view of the demo agent's run", () => {
  it('lists every task of the scenario with its true figures and shows one across services', async () => {
    const demo = await startTestCollector();
    const agent = startProcess(process.execPath, [DEMO_AGENT, '--run-label', 'web'], {
      env: {
        ...process.env,
        OTEL_SERVICE_NAME: SERVICE_NAMES.agent,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${demo.grpcPort}`,
      },
    });
    expect(await agent.exited, agent.output()).toBe(0);
    const truth = TASKS.map((task) => ({ taskId: taskIdFor(task, 'web'), ...task.truth }));
    const { page } = await openPage('/?limit=100', demo.url);
    const rows = page.locator('table.tasks tbody tr');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(truth.length);
    for (const task of truth) {
      const cells = await rows
        .filter({ has: page.getByRole('link', { name: task.taskId, exact: true }) })
        .locator('th, td')
        .allInnerTexts();
      const [, , outcome, , , calls, failed, retries, tokens, authFailures] = cells;
      expect({ outcome, calls, failed, retries, tokens, authFailures }, task.taskId).toEqual({
        outcome: task.outcome,
        calls: String(task.toolCalls),
        failed: String(task.failedCalls),
        retries: String(task.retries),
        tokens: `${task.inputTokens.toLocaleString('en-US')} / ${task.outputTokens.toLocaleString('en-US')}`,
        authFailures: String(task.authFailures.length),
      });
    }
    await screenshot(page, 'demo-tasks');
    const recovered = truth.find((task) => task.outcome === 'recovered' && task.retries > 0)!;
    await page.getByRole('link', { name: recovered.taskId, exact: true }).click();
    const callRows = page.locator('table.calls tbody tr');
    await expect.poll(() => callRows.count()).toBe(recovered.toolCalls);
    expect(await page.getByRole('link', { name: /^retry of #\d+$/ }).count()).toBe(recovered.retries);
    await screenshot(page, 'demo-task');

    // The deploy the operator confirmed through an input_required round: one call, its round shown.
    const confirmed = TASKS.find((task) => task.steps.some((step) => 'call' in step && step.inputRounds))!;
    await page.goto(`${demo.url}/tasks/${encodeURIComponent(taskIdFor(confirmed, 'web'))}`);
    await expect.poll(() => callRows.count()).toBe(confirmed.truth.toolCalls);
    await expect.poll(() => page.getByText('asked for input once', { exact: false }).count()).toBe(1);
    await screenshot(page, 'demo-task-input-required');
  }, 120_000);
});
