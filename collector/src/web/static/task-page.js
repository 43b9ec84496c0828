// One task: its figures, its calls in time order with retries linked, and the feedback form.
import { useState } from 'preact/hooks';
import { callApi, useApi } from './api.js';
import { CheckpointsSection } from './checkpoints-section.js';
import { formatCount, formatMs, formatTime } from './format.js';
import { GrafanaLink, html, Layout, LoadError, traceHref } from './layout.js';
import { TermList } from './table.js';

const taskIdFromPath = () => decodeURIComponent(location.pathname.replace(/^\/tasks\//, ''));

/** An input_required round trip (protocol 2026-07-28): how many rounds the caller answered, and how long it took. */
const roundsText = ({ rounds, waitMs }) =>
  `asked for input ${rounds === 1 ? 'once' : `${rounds} times`}, answered in ${formatMs(waitMs)}`;
/** A call that became a task (tasks extension): its last status, and time spent waiting for input. */
const mcpTaskText = ({ status, inputRequiredMs }) =>
  `ran as a task: ${status ?? 'status unknown'}${inputRequiredMs > 0 ? `, waited ${formatMs(inputRequiredMs)} for input` : ''}`;

const callAnchor = (spanId) => `call-${spanId}`;

function TaskSummary({ task }) {
  const items = [
    ['Outcome', html`<span class=${`outcome outcome-${task.outcome}`}>${task.outcome}</span>`],
    ['Started (UTC)', formatTime(task.startTime)],
    ['Duration', formatMs(task.durationMs)],
    ['Services', task.services.join(', ') || '–'],
    ['Tool calls', formatCount(task.toolCalls)],
    ['Failed calls', formatCount(task.failedCalls)],
    ['Retries', formatCount(task.retries)],
    ['LLM tokens in / out', `${formatCount(task.inputTokens)} / ${formatCount(task.outputTokens)}`],
    ['Auth failures', formatCount(task.authFailures)],
    [
      'Traces',
      html`<ul class="traces">
        ${task.traceIds.map((traceId) => {
          const href = traceHref(traceId);
          return html`<li>${href ? html`<a href=${href} rel="noreferrer">${traceId}</a>` : traceId}</li>`;
        })}
      </ul>`,
    ],
  ];
  return html`<${TermList} items=${items} />`;
}

const argumentsText = (value) =>
  value === null || value === undefined ? '' : JSON.stringify(value, null, 2);

function Calls({ calls, taskDurationMs }) {
  if (calls.length === 0) return html`<p>No tool calls in this task.</p>`;
  const number = new Map(calls.map((call, index) => [call.spanId, index + 1]));
  const retriedBy = new Map(calls.filter((call) => call.retryOf).map((call) => [call.retryOf, call.spanId]));
  // One time axis for the whole task: each bar starts where its call started.
  const scale = Math.max(taskDurationMs, ...calls.map((call) => (call.offsetMs ?? 0) + call.durationMs), 1);
  return html`
    <div class="table-wrap">
      <table class="calls">
        <caption>
          Tool calls in time order; a call seen by both its caller and its server is one row
        </caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Tool</th>
            <th scope="col">Service</th>
            <th scope="col">Result</th>
            <th scope="col">Duration</th>
            <th scope="col">Retry</th>
            <th scope="col">Arguments (redacted)</th>
          </tr>
        </thead>
        <tbody>
          ${calls.map((call) => {
            const retried = retriedBy.get(call.spanId);
            return html`
              <tr id=${callAnchor(call.spanId)} class=${call.outcome === 'error' ? 'failed' : undefined}>
                <td class="num">${number.get(call.spanId)}</td>
                <th scope="row">
                  ${call.tool}
                  <div class="method">${call.method}</div>
                </th>
                <td>${call.service}</td>
                <td>
                  ${
                    call.outcome === 'error'
                      ? html`<span class="outcome outcome-failed">error</span>${' '}<code class="error-type"
                            >${call.errorType ?? 'unknown'}</code
                          >`
                      : html`<span class="outcome outcome-success">ok</span>`
                  }
                  ${call.inputRequired ? html`<div class="method">${roundsText(call.inputRequired)}</div>` : null}
                  ${call.mcpTask ? html`<div class="method">${mcpTaskText(call.mcpTask)}</div>` : null}
                </td>
                <td class="duration">
                  <span class="bar" aria-hidden="true"
                    ><span
                      style=${{
                        marginLeft: `${(100 * (call.offsetMs ?? 0)) / scale}%`,
                        width: `${(100 * call.durationMs) / scale}%`,
                      }}
                    ></span
                  ></span>
                  ${formatMs(call.durationMs)}
                </td>
                <td>
                  <div class="retry-links">
                    ${call.retryOf ? html`<a href=${`#${callAnchor(call.retryOf)}`}>retry of #${number.get(call.retryOf) ?? '?'}</a>` : null}
                    ${retried ? html`<a href=${`#${callAnchor(retried)}`}>retried by #${number.get(retried)}</a>` : null}
                  </div>
                </td>
                <td>
                  ${
                    argumentsText(call.arguments)
                      ? html`<details>
                          <summary>arguments</summary>
                          <pre>${argumentsText(call.arguments)}</pre>
                        </details>`
                      : '–'
                  }
                </td>
              </tr>
            `;
          })}
        </tbody>
      </table>
    </div>
  `;
}

function FeedbackForm({ taskId, feedback }) {
  const [recorded, setRecorded] = useState(feedback);
  const [status, setStatus] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const verdict = form.get('verdict');
    const note = String(form.get('note') ?? '').trim();
    setStatus('Recording…');
    try {
      const { body } = await callApi(`/api/tasks/${encodeURIComponent(taskId)}/feedback`, {
        method: 'POST',
        body: note ? { verdict, note } : { verdict },
      });
      setRecorded({ verdict: body.verdict, note: body.note });
      setStatus(`Recorded: ${body.verdict}.`);
    } catch (error) {
      setStatus(`Not recorded: ${error.message}`);
    }
  };
  return html`
    <form class="feedback" onSubmit=${submit}>
      <fieldset>
        <legend>Was the result correct?</legend>
        <label
          ><input
            type="radio"
            name="verdict"
            value="correct"
            required
            checked=${recorded?.verdict === 'correct'}
          />
          Correct</label
        >
        <label
          ><input
            type="radio"
            name="verdict"
            value="incorrect"
            checked=${recorded?.verdict === 'incorrect'}
          />
          Incorrect</label
        >
        <label class="note"
          >Note (optional)
          <textarea name="note" maxlength="2000" rows="2"></textarea>
        </label>
        <button type="submit">Record verdict</button>
      </fieldset>
      <p role="status">${status}</p>
      ${recorded ? html`<p class="recorded">Current verdict: <strong>${recorded.verdict}</strong>${recorded.note ? ` (“${recorded.note}”)` : ''}</p>` : null}
    </form>
  `;
}

export function TaskPage() {
  const taskId = taskIdFromPath();
  const state = useApi(taskId, () => `/api/tasks/${encodeURIComponent(taskId)}`);
  const detail = state.data;
  return html`
    <${Layout}
      page="task"
      title=${`Task ${taskId}`}
      actions=${html`<${GrafanaLink} uid="mcpscope-tasks" label="Agent tasks" />`}
    >
      <p><a href="/">← All tasks</a></p>
      ${state.error ? html`<${LoadError} error=${state.error} />` : null}
      ${
        detail
          ? html`
              <${TaskSummary} task=${detail.task} />
              <h2>Calls</h2>
              <${Calls} calls=${detail.calls} taskDurationMs=${detail.task.durationMs} />
              <h2>Human checkpoints</h2>
              <${CheckpointsSection} checkpoints=${detail.checkpoints} />
              <h2>Feedback</h2>
              <${FeedbackForm} taskId=${taskId} feedback=${detail.task.feedback} />
            `
          : state.error
            ? null
            : html`<p>Loading…</p>`
      }
    <//>
  `;
}
