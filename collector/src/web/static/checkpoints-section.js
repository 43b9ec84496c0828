// A task's human checkpoints: counts by status, wait, its writes' verdicts, each checkpoint and write.
import { formatCount, formatMs, formatTime } from './format.js';
import { html } from './layout.js';

const STATUSES = ['approved', 'rejected', 'expired', 'cancelled', 'pending'];
const VERDICTS = [
  ['modified', 'modified after approval'],
  ['unapproved', 'without approval'],
  ['stale', 'on a changed state'],
  ['approved', 'as approved'],
  ['notExecuted', 'not executed'],
  ['orphaned', 'orphaned (caller gave up)'],
];

const waitText = (checkpoint) =>
  checkpoint.status === 'pending'
    ? `pending for ${formatMs(checkpoint.pendingMs ?? 0)}`
    : formatMs(checkpoint.waitMs ?? 0);

const verdictText = (write) => `${write.verdict.replace('_', ' ')}${write.orphaned ? ', orphaned' : ''}`;

export function CheckpointsSection({ checkpoints }) {
  if (!checkpoints || (checkpoints.checkpoints.length === 0 && checkpoints.writeList.length === 0)) {
    return html`<p>No human checkpoints or writes in this task.</p>`;
  }
  const { outcomes, waitMs, writes } = checkpoints;
  const items = [
    ['Checkpoints', STATUSES.map((status) => `${formatCount(outcomes[status])} ${status}`).join(', ')],
    [
      'Wait p50 / p95 / max',
      waitMs ? `${formatMs(waitMs.p50)} / ${formatMs(waitMs.p95)} / ${formatMs(waitMs.max)}` : '–',
    ],
    [
      'Writes',
      VERDICTS.filter(([key]) => writes[key] > 0)
        .map(([key, text]) => `${formatCount(writes[key])} ${text}`)
        .join(', ') || '–',
    ],
  ];
  return html`
    <dl class="summary checkpoint-summary">
      ${items.map(
        ([term, value]) =>
          html`<div>
            <dt>${term}</dt>
            <dd>${value}</dd>
          </div>`,
      )}
    </dl>
    <table class="checkpoints">
      <caption>
        Checkpoints in the order they were requested, with the writes that claimed them
      </caption>
      <thead>
        <tr>
          <th scope="col">Checkpoint</th>
          <th scope="col">Tool</th>
          <th scope="col">Status</th>
          <th scope="col">Wait</th>
          <th scope="col">Requested (UTC)</th>
          <th scope="col">Writes</th>
        </tr>
      </thead>
      <tbody>
        ${checkpoints.checkpoints.map(
          (checkpoint) => html`
            <tr>
              <th scope="row">${checkpoint.checkpointId}</th>
              <td>${checkpoint.tool ?? '–'}</td>
              <td><span class=${`checkpoint-${checkpoint.status}`}>${checkpoint.status}</span></td>
              <td>${waitText(checkpoint)}</td>
              <td>${formatTime(checkpoint.requestedAt)}</td>
              <td>${checkpoint.writes.map(verdictText).join('; ') || '–'}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
    <table class="writes">
      <caption>
        Writes in this task (tools not annotated read-only), each under its worst verdict
      </caption>
      <thead>
        <tr>
          <th scope="col">Tool</th>
          <th scope="col">Verdict</th>
          <th scope="col">Checkpoint</th>
          <th scope="col">Caller error</th>
          <th scope="col">Started (UTC)</th>
        </tr>
      </thead>
      <tbody>
        ${checkpoints.writeList.map(
          (write) => html`
            <tr>
              <th scope="row">${write.tool ?? '–'}</th>
              <td><span class=${`verdict-${write.verdict}`}>${verdictText(write)}</span></td>
              <td>${write.checkpointId ?? '–'}</td>
              <td>${write.callerErrorType ?? '–'}</td>
              <td>${formatTime(write.startTime)}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}
