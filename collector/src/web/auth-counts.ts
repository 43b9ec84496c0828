import type { Registry } from 'prom-client';
import { LABEL, METRICS } from '../metrics/index.js';

export interface AuthFailureCount {
  service: string;
  side: string;
  reason: string;
  count: number;
}

export interface TokenRefreshCount {
  service: string;
  outcome: string;
  count: number;
}

export interface AuthCounts {
  failures: AuthFailureCount[];
  refreshes: TokenRefreshCount[];
}

const labelValues = async (registry: Registry, name: string) => {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return [];
  const { values } = await metric.get();
  return values.filter((sample) => sample.value > 0);
};

/**
 * Auth failures by service, side and reason, and token refreshes by outcome, as counted since the
 * collector started: the same counters Prometheus scrapes, read in-process for the web view.
 */
export const readAuthCounts = async (registry: Registry): Promise<AuthCounts> => {
  const failures = (await labelValues(registry, METRICS.authFailures.name)).map((sample) => ({
    service: String(sample.labels[LABEL.serviceName] ?? ''),
    side: String(sample.labels[LABEL.side] ?? ''),
    reason: String(sample.labels[LABEL.reason] ?? ''),
    count: sample.value,
  }));
  const refreshes = (await labelValues(registry, METRICS.tokenRefreshes.name)).map((sample) => ({
    service: String(sample.labels[LABEL.serviceName] ?? ''),
    outcome: String(sample.labels[LABEL.outcome] ?? ''),
    count: sample.value,
  }));
  return { failures, refreshes };
};
