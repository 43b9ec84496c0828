import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  defaultAlertsConfig,
  NON_PAGING_WEBHOOK_PLACEHOLDER,
  ON_CALL_WEBHOOK_PLACEHOLDER,
} from '../../alerts/src/index.js';
import { ensureDebianTool } from '../../test/src/support/debian-tools.js';
import {
  allDashboards,
  defaultDashboardsConfig,
  defaultGrafanaProvisioningConfig,
  PINNED_GRAFANA,
} from './index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface ComposeService {
  build?: { context: string; dockerfile?: string };
  image?: string;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  profiles?: string[];
  depends_on?: string[] | Record<string, unknown>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Compose's variable interpolation: `$$` is a literal `$`; `${NAME:-default}` falls back when unset or empty. */
const interpolate = (text: string, env: Readonly<Record<string, string>>): string =>
  text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}/g,
    (whole, name?: string, colon?: string, fallback?: string) => {
      if (whole === '$$') return '$';
      const value = env[name!];
      if (value === undefined || (colon === ':' && value === '')) return fallback ?? '';
      return value;
    },
  );

/** docker-compose.yml as `docker compose config` would see it with the given environment. */
const loadCompose = async (env: Readonly<Record<string, string>> = {}): Promise<ComposeFile> =>
  parse(interpolate(await readFile(join(root, 'docker-compose.yml'), 'utf8'), env)) as ComposeFile;

/** Drops the pre-2019 `id` annotations (`"id": "#/definitions/service"`), which Ajv refuses as schema ids. */
const withoutLegacyIds = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutLegacyIds(value)]),
  );
};

const composeValidator = async () => {
  const schema = JSON.parse(
    await readFile(join(root, 'deploy/compose-spec/compose-spec.json'), 'utf8'),
  ) as Record<string, unknown>;
  // The schema also uses custom formats (`expose`) that only Compose itself implements.
  const ajv = new Ajv2019({ strict: false, validateFormats: false, allErrors: true, validateSchema: false });
  return ajv.compile(withoutLegacyIds(schema) as Record<string, unknown>);
};

/** Bind mounts as [host path, container path], named volumes left out. */
const bindMounts = (service: ComposeService): Array<[string, string]> =>
  (service.volumes ?? [])
    .map((volume) => volume.split(':'))
    .filter(([source]) => source !== undefined && (source.startsWith('./') || source.startsWith('/')))
    .map(([source, target]) => [resolve(root, source!), target!]);

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', async () => {
    const validate = await composeValidator();
    const valid = validate(await loadCompose());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('would be rejected by the schema if it were wrong', async () => {
    const validate = await composeValidator();
    const compose = await loadCompose();
    const broken = {
      ...compose,
      services: { ...compose.services, grafana: { ...compose.services.grafana, imagee: 'x' } },
    };
    expect(validate(broken)).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ params: { additionalProperty: 'imagee' } }),
    );
  });

  it('runs the collector, Prometheus, Alertmanager and Grafana, and the demo agent under the demo profile', async () => {
    const { services } = await loadCompose();
    expect(Object.keys(services).sort()).toEqual([
      'alertmanager',
      'collector',
      'demo',
      'grafana',
      'prometheus',
    ]);
    expect(services.collector!.command).toEqual(
      expect.arrayContaining(['collector/dist/cli.js', 'collector', '--host', '0.0.0.0']),
    );
    expect(services.grafana!.image).toBe(PINNED_GRAFANA.image);
    // Dashboards in the schema of the Grafana that loads them.
    for (const dashboard of allDashboards())
      expect(dashboard.schemaVersion, dashboard.uid).toBe(PINNED_GRAFANA.dashboardSchemaVersion);
    expect(services.demo!.profiles).toEqual(['demo']);
    expect(String(services.demo!.command)).toContain('examples/src/demo-agent.mjs');
    expect(existsSync(join(root, 'examples/src/demo-agent.mjs'))).toBe(true);
    for (const name of ['collector', 'prometheus', 'alertmanager', 'grafana'])
      expect(services[name]!.profiles).toBeUndefined();
  });

  it('mounts and builds only files that exist', async () => {
    const { services } = await loadCompose();
    for (const [name, service] of Object.entries(services)) {
      for (const [source] of bindMounts(service))
        expect(existsSync(source), `${name} mounts ${source}`).toBe(true);
      if (service.build) {
        const context = resolve(root, service.build.context);
        const dockerfile = join(context, service.build.dockerfile ?? 'Dockerfile');
        expect(existsSync(dockerfile), `${name} builds ${dockerfile}`).toBe(true);
        // Every COPY from the build context names something in it.
        const copies = (await readFile(dockerfile, 'utf8'))
          .split('\n')
          .filter((line) => /^COPY\s/.test(line) && !line.includes('--from='))
          .flatMap((line) => line.trim().split(/\s+/).slice(1, -1));
        expect(copies.length).toBeGreaterThan(0);
        for (const source of copies)
          expect(existsSync(join(context, source)), `${name}: COPY ${source}`).toBe(true);
        expect(existsSync(join(context, '.dockerignore'))).toBe(true);
        // `npm ci` needs every workspace's manifest before the sources are copied.
        const { workspaces } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
          workspaces: string[];
        };
        for (const workspace of workspaces)
          expect(copies, `${name}: ${workspace}/package.json`).toContain(`${workspace}/package.json`);
      }
    }
  });

  it('gives Prometheus a config that promtool accepts, with the generated rules mounted where it loads them', async () => {
    const { services } = await loadCompose();
    const mounts = bindMounts(services.prometheus!);
    const configMount = mounts.find(([, target]) => target === '/etc/prometheus/prometheus.yml');
    expect(configMount).toBeDefined();
    const config = parse(await readFile(configMount![0], 'utf8')) as {
      rule_files: string[];
      alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const hostRuleFiles = config.rule_files.map((path) => mounts.find(([, target]) => target === path)?.[0]);
    expect(hostRuleFiles).toEqual([join(root, 'alerts/generated/prometheus/mcpscope-rules.yaml')]);

    // The job the dashboards and alerts select is the one that scrapes the collector service.
    const collectorJob = config.scrape_configs.find(
      (job) => job.static_configs[0]?.targets[0] === 'collector:4318',
    );
    expect(`job="${collectorJob?.job_name}"`).toBe(defaultAlertsConfig.collectorSelector);
    expect(`job="${collectorJob?.job_name}"`).toBe(defaultDashboardsConfig.collectorSelector);
    expect(config.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual(['alertmanager:9093']);

    const promtool = ensureDebianTool('promtool');
    const dir = await mkdtemp(join(tmpdir(), 'mcpscope-compose-'));
    try {
      const local = join(dir, 'prometheus.yml');
      await writeFile(local, stringify({ ...config, rule_files: hostRuleFiles }));
      const { stdout } = await run(promtool, ['check', 'config', local]);
      expect(stdout).toContain('SUCCESS');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hands Alertmanager the generated config with its webhook placeholders replaced', async () => {
    const { services } = await loadCompose();
    const alertmanager = services.alertmanager!;
    const mounted = bindMounts(alertmanager);
    expect(mounted.map(([source]) => source)).toContain(
      join(root, 'alerts/generated/alertmanager/alertmanager.yml'),
    );
    const script = String(alertmanager.command);
    // After Compose's interpolation the shell sees ${ONCALL_WEBHOOK_URL}, set from the environment below.
    expect(script).toContain(`s|${ON_CALL_WEBHOOK_PLACEHOLDER}|\${ONCALL_WEBHOOK_URL}|`);
    expect(script).toContain(`s|${NON_PAGING_WEBHOOK_PLACEHOLDER}|\${NOTIFY_WEBHOOK_URL}|`);
    expect(alertmanager.environment).toEqual({
      ONCALL_WEBHOOK_URL: ON_CALL_WEBHOOK_PLACEHOLDER,
      NOTIFY_WEBHOOK_URL: NON_PAGING_WEBHOOK_PLACEHOLDER,
    });
    const configured = await loadCompose({ ONCALL_WEBHOOK_URL: 'https://pager.example/hook' });
    expect(configured.services.alertmanager!.environment?.ONCALL_WEBHOOK_URL).toBe(
      'https://pager.example/hook',
    );
    expect(configured.services.grafana!.environment?.ONCALL_WEBHOOK_URL).toBe('https://pager.example/hook');
  });

  it('provisions Grafana with the data source, dashboards and alerting', async () => {
    const { services } = await loadCompose();
    const grafana = services.grafana!;
    const targets = new Map(bindMounts(grafana).map(([source, target]) => [target, source]));
    expect(targets.get('/etc/grafana/provisioning/datasources')).toBe(
      join(root, 'dashboards/generated/provisioning/datasources'),
    );
    expect(targets.get('/etc/grafana/provisioning/dashboards')).toBe(
      join(root, 'dashboards/generated/provisioning/dashboards'),
    );
    expect(targets.get('/etc/grafana/provisioning/alerting')).toBe(join(root, 'alerts/generated/grafana'));
    expect(targets.get(defaultGrafanaProvisioningConfig.dashboardsPath)).toBe(
      join(root, 'dashboards/generated'),
    );
    expect(statSync(join(root, 'dashboards/generated/mcpscope-overview.json')).isFile()).toBe(true);
    // The provisioned data source points at the Prometheus service; alert rules query it by uid.
    expect(new URL(defaultGrafanaProvisioningConfig.prometheusUrl).hostname).toBe('prometheus');
    expect(defaultAlertsConfig.grafana.datasourceUid).toBe(defaultGrafanaProvisioningConfig.datasourceUid);
    for (const env of [
      defaultAlertsConfig.grafana.onCallWebhookEnv,
      defaultAlertsConfig.grafana.nonPagingWebhookEnv,
    ]) {
      expect(grafana.environment?.[env]).toMatch(/^https?:\/\//);
    }
  });
});
