// Per tool: latency percentiles, errors by type, retries, and calls over time as a chart.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { useApi } from './api.js';
import {
  formatCount,
  formatMs,
  formatPercent,
  formatTime,
  pageParams,
  SINCE_CHOICES,
  sinceToFromMs,
} from './format.js';
import { GrafanaLink, html, Layout, LoadError } from './layout.js';
import { Table } from './table.js';

const rangeQuery = (since) => {
  const from = sinceToFromMs(since);
  return from === undefined ? '' : `?from=${from}`;
};

const errorsByTypeText = (errorsByType) =>
  Object.entries(errorsByType)
    .sort(([typeA, a], [typeB, b]) => b - a || typeA.localeCompare(typeB))
    .map(([type, count]) => `${type} ${count}`)
    .join(', ') || '–';

const MINUTE_MS = 60_000;
const PADDING_MINUTES = 5;
const MOST_FILLED_MINUTES = 24 * 60;

/**
 * Chart columns (seconds, calls, errors, retries). The API lists only minutes that had calls; the
 * minutes between them, and a few either side, had none: they are drawn as zeros, so a lone busy
 * minute reads as a spike in its hour. Past a day of minutes only the listed ones are drawn.
 */
const perMinuteSeries = (minutes) => {
  const byMinute = new Map(minutes.map((minute) => [Date.parse(minute.minute), minute]));
  const first = Math.min(...byMinute.keys()) - PADDING_MINUTES * MINUTE_MS;
  const last = Math.max(...byMinute.keys()) + PADDING_MINUTES * MINUTE_MS;
  const times =
    (last - first) / MINUTE_MS <= MOST_FILLED_MINUTES
      ? Array.from({ length: (last - first) / MINUTE_MS + 1 }, (_, index) => first + index * MINUTE_MS)
      : [...byMinute.keys()].sort((a, b) => a - b);
  const column = (field) => times.map((time) => byMinute.get(time)?.[field] ?? 0);
  return [times.map((time) => time / 1000), column('calls'), column('errors'), column('retries')];
};

function CallsChart({ minutes, tool }) {
  const container = useRef(null);
  useEffect(() => {
    const element = container.current;
    if (!element || minutes.length === 0) return undefined;
    const data = perMinuteSeries(minutes);
    const chart = new uPlot(
      {
        title: `${tool}: calls per minute`,
        width: Math.max(320, element.clientWidth),
        height: 260,
        scales: { x: { time: true } },
        series: [
          { label: 'minute (UTC)' },
          { label: 'calls', stroke: '#1f5fbf', width: 2, points: { show: true } },
          { label: 'errors', stroke: '#b3261e', width: 2, points: { show: true } },
          { label: 'retries', stroke: '#7a5b00', width: 2, dash: [6, 4], points: { show: true } },
        ],
        axes: [{}, { label: 'per minute' }],
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      },
      data,
      element,
    );
    return () => chart.destroy();
  }, [minutes, tool]);
  return html`<div
    class="chart"
    ref=${container}
    role="img"
    aria-label=${`Calls, errors and retries per minute of ${tool}`}
  ></div>`;
}

function ToolChart({ tool, since }) {
  const state = useApi(
    `${tool}|${since}`,
    () => `/api/tools/${encodeURIComponent(tool)}/minutes${rangeQuery(since)}`,
  );
  if (state.error) return html`<${LoadError} error=${state.error} />`;
  const minutes = state.data?.minutes;
  if (minutes === undefined) return html`<p>Loading…</p>`;
  return html`
    <figure>
      <${CallsChart} minutes=${minutes} tool=${tool} />
      <figcaption>
        <details>
          <summary>Chart data as a table</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">Minute (UTC)</th>
                <th scope="col">Calls</th>
                <th scope="col">Errors</th>
                <th scope="col">Retries</th>
                <th scope="col">p95</th>
              </tr>
            </thead>
            <tbody>
              ${minutes.map(
                (minute) =>
                  html`<tr>
                    <td>${formatTime(minute.minute)}</td>
                    <td class="num">${minute.calls}</td>
                    <td class="num">${minute.errors}</td>
                    <td class="num">${minute.retries}</td>
                    <td class="num">${formatMs(minute.p95Ms)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  `;
}

const TOOL_COLUMNS = [
  'Tool',
  'Services',
  'Calls',
  'p50',
  'p95',
  'p99',
  'Error rate',
  'Errors by type',
  'Retries',
];

export function ToolsPage() {
  const params = pageParams();
  const since = params.get('since') ?? '';
  const state = useApi(since, () => `/api/tools${rangeQuery(since)}`);
  const tools = state.data?.tools;
  const selected = params.get('tool') || tools?.[0]?.tool;
  const toolHref = (tool) => {
    const next = new URLSearchParams(params);
    next.set('tool', tool);
    return `/tools?${next}`;
  };
  return html`
    <${Layout}
      page="tools"
      title="Tools"
      actions=${html`<${GrafanaLink} uid="mcpscope-tool" label="Tool drill-down" params=${selected ? { 'var-tool': selected } : undefined} />`}
    >
      <form class="filters" method="get" action="/tools" aria-label="Time range">
        <label
          >Calls started
          <select name="since">
            ${SINCE_CHOICES.map(([value, label]) => html`<option value=${value} selected=${since === value}>${label}</option>`)}
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      ${state.error ? html`<${LoadError} error=${state.error} />` : null}
      ${
        tools === undefined
          ? state.error
            ? null
            : html`<p>Loading…</p>`
          : tools.length === 0
            ? html`<p>No tool calls in this range.</p>`
            : html`
                <${Table}
                  className="tools"
                  caption="Tools by calls"
                  columns=${TOOL_COLUMNS}
                  rows=${tools}
                  renderRow=${(tool) => html`
                    <tr key=${tool.tool} class=${tool.tool === selected ? 'selected' : undefined}>
                      <th scope="row">
                        <a
                          href=${toolHref(tool.tool)}
                          aria-current=${tool.tool === selected ? 'true' : undefined}
                          >${tool.tool}</a
                        >
                      </th>
                      <td>${tool.services.join(', ')}</td>
                      <td class="num">${formatCount(tool.calls)}</td>
                      <td class="num">${formatMs(tool.p50Ms)}</td>
                      <td class="num">${formatMs(tool.p95Ms)}</td>
                      <td class="num">${formatMs(tool.p99Ms)}</td>
                      <td class="num">${formatPercent(tool.errors, tool.calls)}</td>
                      <td>${errorsByTypeText(tool.errorsByType)}</td>
                      <td class="num">${formatCount(tool.retries)}</td>
                    </tr>
                  `}
                />
                ${
                  selected
                    ? html`<h2>Calls over time: ${selected}</h2>
                        <${ToolChart} key=${`${selected}|${since}`} tool=${selected} since=${since} />`
                    : null
                }
              `
      }
    <//>
  `;
}
