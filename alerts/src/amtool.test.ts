import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianTool } from '../../test/src/support/debian-tools.js';
import {
  alertDefinitions,
  NON_PAGING_RECEIVER,
  NON_PAGING_WEBHOOK_PLACEHOLDER,
  ON_CALL_RECEIVER,
  ON_CALL_WEBHOOK_PLACEHOLDER,
  renderAlertmanagerConfig,
} from './index.js';

const run = promisify(execFile);

describe('Alertmanager routing', () => {
  let amtool: string;
  let dir: string;
  let configPath: string;

  const amtoolRun = async (...args: string[]) => {
    try {
      const { stdout } = await run(amtool, args);
      return { code: 0, output: stdout };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
    }
  };
  const route = (receiver: string, labels: Record<string, string>, file = configPath) =>
    amtoolRun(
      'config',
      'routes',
      'test',
      `--config.file=${file}`,
      `--verify.receivers=${receiver}`,
      ...Object.entries(labels).map(([name, value]) => `${name}=${value}`),
    );

  beforeAll(async () => {
    amtool = ensureDebianTool('amtool');
    dir = await mkdtemp(join(tmpdir(), 'mcpscope-amtool-'));
    configPath = join(dir, 'alertmanager.yml');
    await writeFile(configPath, renderAlertmanagerConfig());
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes `amtool check-config`, as generated and with the webhook URLs the stack substitutes', async () => {
    const checked = await amtoolRun('check-config', configPath);
    expect(checked.output).toContain('SUCCESS');
    expect(checked.code).toBe(0);
    const substituted = join(dir, 'substituted.yml');
    await writeFile(
      substituted,
      renderAlertmanagerConfig()
        .replace(ON_CALL_WEBHOOK_PLACEHOLDER, 'https://events.pagerduty.example/integration/abc/enqueue')
        .replace(NON_PAGING_WEBHOOK_PLACEHOLDER, 'http://chat-bridge:8080/mcpscope'),
    );
    expect((await amtoolRun('check-config', substituted)).code).toBe(0);
  });

  it('pages on-call for a critical auth-failure alert', async () => {
    const paged = await route(ON_CALL_RECEIVER, {
      alertname: 'McpscopeAuthFailures',
      severity: 'critical',
      service_name: 'infra-server',
    });
    expect(paged.output.trim()).toBe(ON_CALL_RECEIVER);
    expect(paged.code).toBe(0);
  });

  it('does not page for a warning', async () => {
    const labels = {
      alertname: 'McpscopeAuthFailureBurst',
      severity: 'warning',
      service_name: 'infra-server',
    };
    const notified = await route(NON_PAGING_RECEIVER, labels);
    expect(notified.output.trim()).toBe(NON_PAGING_RECEIVER);
    expect(notified.code).toBe(0);
    expect((await route(ON_CALL_RECEIVER, labels)).code).not.toBe(0);
  });

  it('pages for exactly the alerts defined as critical', async () => {
    for (const alert of alertDefinitions()) {
      const expected = alert.severity === 'critical' ? ON_CALL_RECEIVER : NON_PAGING_RECEIVER;
      const result = await route(expected, { alertname: alert.name, severity: alert.severity });
      expect(result.code, `${alert.name} should reach ${expected}`).toBe(0);
    }
  });
});
