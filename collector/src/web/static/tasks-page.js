// Recent tasks, with the API's filters and paging, refreshed while new tasks arrive.
import { useRef } from 'preact/hooks';
import { useApi } from './api.js';
import { formatCount, formatMs, formatTime, pageParams, SINCE_CHOICES, sinceToFromMs } from './format.js';
import { GrafanaLink, html, Layout, LoadError } from './layout.js';
import { Table } from './table.js';

const REFRESH_MS = 5000;
const OUTCOMES = ['success', 'recovered', 'failed'];

const tasksPath = (params) => {
  const query = new URLSearchParams();
  query.set('limit', params.get('limit') || '50');
  const from = sinceToFromMs(params.get('since'));
  if (from !== undefined) query.set('from', String(from));
  for (const name of ['outcome', 'service', 'tool', 'cursor']) {
    const value = params.get(name);
    if (value) query.set(name, value);
  }
  return `/api/tasks?${query}`;
};

function Filters({ params }) {
  return html`
    <form class="filters" method="get" action="/" aria-label="Filter tasks">
      <label
        >Started
        <select name="since">
          ${SINCE_CHOICES.map(
            ([value, label]) =>
              html`<option value=${value} selected=${params.get('since') === value}>${label}</option>`,
          )}
        </select>
      </label>
      <label
        >Outcome
        <select name="outcome">
          <option value="">any</option>
          ${OUTCOMES.map((value) => html`<option value=${value} selected=${params.get('outcome') === value}>${value}</option>`)}
        </select>
      </label>
      <label>Service <input name="service" value=${params.get('service') ?? ''} maxlength="256" /></label>
      <label>Tool <input name="tool" value=${params.get('tool') ?? ''} maxlength="256" /></label>
      <button type="submit">Apply</button>
    </form>
  `;
}

const feedbackText = (feedback) => (feedback ? feedback.verdict : '–');

function TaskRow({ task, isNew }) {
  return html`
    <tr class=${isNew ? 'new' : undefined}>
      <th scope="row"><a href=${`/tasks/${encodeURIComponent(task.taskId)}`}>${task.taskId}</a></th>
      <td>${formatTime(task.startTime)}</td>
      <td><span class=${`outcome outcome-${task.outcome}`}>${task.outcome}</span></td>
      <td class="num">${formatMs(task.durationMs)}</td>
      <td>${task.services.join(', ')}</td>
      <td class="num">${formatCount(task.toolCalls)}</td>
      <td class="num">${formatCount(task.failedCalls)}</td>
      <td class="num">${formatCount(task.retries)}</td>
      <td class="num">${formatCount(task.inputTokens)} / ${formatCount(task.outputTokens)}</td>
      <td class="num">${formatCount(task.authFailures)}</td>
      <td>${feedbackText(task.feedback)}</td>
    </tr>
  `;
}

const TASK_COLUMNS = [
  'Task',
  'Started (UTC)',
  'Outcome',
  'Duration',
  'Services',
  'Calls',
  'Failed',
  'Retries',
  'Tokens in / out',
  'Auth failures',
  'Feedback',
];

export function TasksPage() {
  const params = pageParams();
  const paged = params.has('cursor');
  const state = useApi(location.search, () => tasksPath(params), {
    refreshMs: paged ? undefined : REFRESH_MS,
  });
  // Tasks seen at the first load: rows that arrive later are marked as new.
  const seen = useRef(null);
  const tasks = state.data?.tasks;
  if (tasks && seen.current === null) seen.current = new Set(tasks.map((task) => task.taskId));
  const nextCursor = state.headers?.get('x-next-cursor');
  const nextParams = new URLSearchParams(params);
  if (nextCursor) nextParams.set('cursor', nextCursor);
  const firstParams = new URLSearchParams(params);
  firstParams.delete('cursor');

  return html`
    <${Layout}
      page="tasks"
      title="Tasks"
      actions=${html`<${GrafanaLink} uid="mcpscope-tasks" label="Agent tasks" />`}
    >
      <${Filters} params=${params} />
      <p class="live">
        ${paged ? 'An older page: not refreshed.' : `Live: refreshed every ${REFRESH_MS / 1000} s.`}
        ${state.updatedAt ? ` Last read ${state.updatedAt.toLocaleTimeString('en-GB')}.` : ''}
      </p>
      ${state.error ? html`<${LoadError} error=${state.error} />` : null}
      ${
        tasks === undefined
          ? state.error
            ? null
            : html`<p>Loading…</p>`
          : tasks.length === 0
            ? html`<p>No tasks match. Point an OpenTelemetry exporter at this collector and run an agent.</p>`
            : html`<${Table}
                className="tasks"
                caption=${`${tasks.length} task${tasks.length === 1 ? '' : 's'}, newest first`}
                columns=${TASK_COLUMNS}
                rows=${tasks}
                renderRow=${(task) =>
                  html`<${TaskRow}
                    key=${task.taskId}
                    task=${task}
                    isNew=${!seen.current.has(task.taskId)}
                  />`}
              />`
      }
      <nav class="pager" aria-label="Pages of tasks">
        ${paged ? html`<a href=${`/?${firstParams}`}>Newest tasks</a>` : null}
        ${nextCursor ? html`<a href=${`/?${nextParams}`} rel="next">Older tasks</a>` : null}
      </nav>
    <//>
  `;
}
