// Auth failures by side and reason, and token refreshes, as the collector has counted them.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { useApi } from './api.js';
import { formatCount, formatTime } from './format.js';
import { GrafanaLink, html, Layout, LoadError } from './layout.js';
import { Table } from './table.js';

const REFRESH_MS = 10_000;
const seriesKey = (failure) => `${failure.side} · ${failure.reason}`;
const COLORS = ['#b3261e', '#1f5fbf', '#7a5b00', '#006d3b', '#6a1b9a', '#00695c', '#8d4e00', '#37474f'];

/** Failures in each interval between two reads, per side and reason, since the page opened. */
function FailuresChart({ samples }) {
  const container = useRef(null);
  const keys = [...new Set(samples.flatMap((sample) => [...sample.totals.keys()]))].sort();
  useEffect(() => {
    const element = container.current;
    if (!element || samples.length < 2 || keys.length === 0) return undefined;
    const times = samples.slice(1).map((sample) => sample.at / 1000);
    const series = keys.map((key) =>
      samples
        .slice(1)
        .map((sample, index) => (sample.totals.get(key) ?? 0) - (samples[index].totals.get(key) ?? 0)),
    );
    const chart = new uPlot(
      {
        title: 'Auth failures per interval, by side and reason',
        width: Math.max(320, element.clientWidth),
        height: 240,
        series: [
          { label: 'time' },
          ...keys.map((key, index) => ({
            label: key,
            stroke: COLORS[index % COLORS.length],
            width: 2,
            points: { show: true },
          })),
        ],
        axes: [{}, { label: 'failures' }],
      },
      [times, ...series],
      element,
    );
    return () => chart.destroy();
  }, [samples]);
  if (samples.length < 2)
    return html`<p>The chart starts after the second read (${REFRESH_MS / 1000} s).</p>`;
  if (keys.length === 0) return html`<p>No auth failures counted yet.</p>`;
  return html`<div
    class="chart"
    ref=${container}
    role="img"
    aria-label="Auth failures per interval by side and reason"
  ></div>`;
}

export function AuthPage() {
  const counts = useApi('auth', () => '/api/auth/counts', { refreshMs: REFRESH_MS });
  const tasks = useApi('tasks', () => '/api/tasks?limit=1000', { refreshMs: REFRESH_MS * 3 });
  const [samples, setSamples] = useState([]);
  useEffect(() => {
    if (!counts.data) return;
    const totals = new Map();
    for (const failure of counts.data.failures) {
      totals.set(seriesKey(failure), (totals.get(seriesKey(failure)) ?? 0) + failure.count);
    }
    setSamples((previous) => [...previous.slice(-359), { at: counts.updatedAt.getTime(), totals }]);
  }, [counts.updatedAt]);
  const failures = counts.data?.failures ?? [];
  const refreshes = counts.data?.refreshes ?? [];
  const tasksWithFailures = (tasks.data?.tasks ?? []).filter((task) => task.authFailures > 0);
  return html`
    <${Layout} page="auth" title="Auth" actions=${html`<${GrafanaLink} uid="mcpscope-auth" label="Auth" />`}>
      ${counts.error ? html`<${LoadError} error=${counts.error} />` : null}
      ${
        counts.data
          ? html`
              <p>
                Counted since the collector started at ${formatTime(counts.data.since)} UTC; history lives in
                Prometheus.
              </p>
              <h2>Failures over time</h2>
              <${FailuresChart} samples=${samples} />
              <h2>Failures by side and reason</h2>
              <${Table}
                columns=${['Service', 'Side', 'Reason', 'Failures']}
                rows=${failures}
                empty="No auth failures."
                renderRow=${(failure) =>
                  html`<tr>
                    <td>${failure.service}</td>
                    <td>${failure.side}</td>
                    <td>${failure.reason}</td>
                    <td class="num">${formatCount(failure.count)}</td>
                  </tr>`}
              />
              <h2>Token refreshes</h2>
              <${Table}
                columns=${['Service', 'Outcome', 'Refreshes']}
                rows=${refreshes}
                empty="No token refreshes."
                renderRow=${(refresh) =>
                  html`<tr>
                    <td>${refresh.service}</td>
                    <td>${refresh.outcome}</td>
                    <td class="num">${formatCount(refresh.count)}</td>
                  </tr>`}
              />
            `
          : counts.error
            ? null
            : html`<p>Loading…</p>`
      }
      <h2>Tasks with auth failures</h2>
      ${
        tasksWithFailures.length === 0
          ? html`<p>None among the latest tasks.</p>`
          : html`<ul>
              ${tasksWithFailures.map((task) => html`<li><a href=${`/tasks/${encodeURIComponent(task.taskId)}`}>${task.taskId}</a>: ${task.authFailures} auth failure${task.authFailures === 1 ? '' : 's'}, ${formatTime(task.startTime)}</li>`)}
            </ul>`
      }
    <//>
  `;
}
