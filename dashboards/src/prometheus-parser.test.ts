import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ensureDebianTool } from '../../test/src/support/debian-tools.js';
import { allDashboards, expandGrafanaVariables, listPanelQueries } from './index.js';

const run = promisify(execFile);

/** Expressions as recording rules, so `promtool check rules` runs Prometheus' own parser and type checks. */
const asRuleFile = (exprs: readonly string[]): string =>
  stringify({
    groups: [
      {
        name: 'dashboard-queries',
        rules: exprs.map((expr, index) => ({ record: `mcpscope:query:${index}`, expr })),
      },
    ],
  });

describe("dashboard queries in Prometheus' own parser", () => {
  let promtool: string;
  let dir: string;
  const check = async (exprs: readonly string[]) => {
    const file = join(dir, 'queries.yaml');
    await writeFile(file, asRuleFile(exprs));
    try {
      const { stdout, stderr } = await run(promtool, ['check', 'rules', file]);
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
    }
  };

  beforeAll(async () => {
    promtool = ensureDebianTool('promtool');
    dir = await mkdtemp(join(tmpdir(), 'mcpscope-queries-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts every panel query and variable selector once Grafana has expanded its variables', async () => {
    const panelQueries = listPanelQueries().map((query) => expandGrafanaVariables(query.expr));
    const variableSelectors = allDashboards().flatMap((dashboard) =>
      ((dashboard.templating as { list: Array<{ query?: unknown }> }).list ?? [])
        .map((variable) =>
          typeof variable.query === 'string'
            ? /^label_values\((.+),\s*\w+\)$/.exec(variable.query)?.[1]
            : undefined,
        )
        .filter((selector): selector is string => selector !== undefined)
        .map((selector) => expandGrafanaVariables(selector)),
    );
    const result = await check([...panelQueries, ...variableSelectors]);
    expect(result.output).toContain(`SUCCESS: ${panelQueries.length + variableSelectors.length} rules found`);
    expect(result.code).toBe(0);
  });

  it('rejects a query that parses but does not type-check', async () => {
    const result = await check(['rate(mcpscope_tasks_total)']);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('expected type range vector');
  });
});
