import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventually, freePort, startProcess, type RunningProcess } from './processes.js';

export interface PrometheusStack {
  prometheusUrl: string;
  alertmanagerUrl: string;
  prometheus: RunningProcess;
  alertmanager: RunningProcess;
  /** Alerts Alertmanager delivered to the on-call webhook, in arrival order. */
  delivered: DeliveredAlert[];
  query(expr: string): Promise<PromVector>;
  firingAlerts(): Promise<Array<{ labels: Record<string, string>; state: string }>>;
  stop(): Promise<void>;
}

export interface DeliveredAlert {
  receiver: string;
  status: string;
  labels: Record<string, string>;
}

export type PromVector = Array<{ metric: Record<string, string>; value: [number, string] }>;

interface StackOptions {
  dir: string;
  /** host:port of the collector's HTTP listener, scraped every second. */
  collectorTarget: string;
  /** Prometheus rule file contents (YAML). */
  rules: string;
  /** Alertmanager config; `{{WEBHOOK_URL}}` and `{{WARNING_WEBHOOK_URL}}` are replaced by the test's receivers. */
  alertmanagerConfig: string;
  alertmanagerBinary?: string;
}

const startWebhook = async (delivered: DeliveredAlert[], receiver: string) => {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      try {
        const payload = JSON.parse(body) as {
          status: string;
          alerts: Array<{ labels: Record<string, string>; status: string }>;
        };
        for (const alert of payload.alerts)
          delivered.push({ receiver, status: alert.status, labels: alert.labels });
      } catch {
        // not an Alertmanager payload: ignored
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
};

/** Real Prometheus and Alertmanager from Debian's packages, on loopback, with the generated configuration. */
export const startPrometheusStack = async (options: StackOptions): Promise<PrometheusStack> => {
  const delivered: DeliveredAlert[] = [];
  const onCall = await startWebhook(delivered, 'on-call');
  const warnings = await startWebhook(delivered, 'warnings');
  await mkdir(join(options.dir, 'prometheus-data'), { recursive: true });
  await mkdir(join(options.dir, 'alertmanager-data'), { recursive: true });

  const alertmanagerPort = await freePort();
  const alertmanagerConfigPath = join(options.dir, 'alertmanager.yml');
  await writeFile(
    alertmanagerConfigPath,
    options.alertmanagerConfig
      .replaceAll('{{WEBHOOK_URL}}', onCall.url)
      .replaceAll('{{WARNING_WEBHOOK_URL}}', warnings.url),
  );
  const alertmanager = startProcess(options.alertmanagerBinary ?? 'prometheus-alertmanager', [
    `--config.file=${alertmanagerConfigPath}`,
    `--storage.path=${join(options.dir, 'alertmanager-data')}`,
    `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
    '--cluster.listen-address=',
  ]);

  const prometheusPort = await freePort();
  const rulesPath = join(options.dir, 'rules.yaml');
  await writeFile(rulesPath, options.rules);
  const configPath = join(options.dir, 'prometheus.yml');
  await writeFile(
    configPath,
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [rulesPath],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanagerPort}`] }] }] },
      scrape_configs: [
        { job_name: 'mcpscope-collector', static_configs: [{ targets: [options.collectorTarget] }] },
      ],
    }),
  );
  const prometheus = startProcess('prometheus', [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(options.dir, 'prometheus-data')}`,
    `--web.listen-address=127.0.0.1:${prometheusPort}`,
    '--web.enable-lifecycle',
  ]);
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  const alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;
  await eventually(async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined), {
    what: `Prometheus ready:\n${prometheus.output().slice(-2000)}`,
  });
  await eventually(async () => ((await fetch(`${alertmanagerUrl}/-/ready`)).ok ? true : undefined), {
    what: `Alertmanager ready:\n${alertmanager.output().slice(-2000)}`,
  });

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${prometheusUrl}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };

  return {
    prometheusUrl,
    alertmanagerUrl,
    prometheus,
    alertmanager,
    delivered,
    async query(expr) {
      const data = await api<{ resultType: string; result: PromVector }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result;
    },
    async firingAlerts() {
      const data = await api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>(
        '/api/v1/alerts',
      );
      return data.alerts.filter((alert) => alert.state === 'firing');
    },
    async stop() {
      await Promise.all([prometheus.stop(), alertmanager.stop()]);
      onCall.server.close();
      warnings.server.close();
    },
  };
};
