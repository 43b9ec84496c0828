// A task's human checkpoints: counts by status, wait, its writes' verdicts, each checkpoint and write.
import { formatCount, formatMs, formatTime } from './format.js';
import { html } from './layout.js';
import { Table, TermList } from './table.js';

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
    <${TermList} className="summary checkpoint-summary" items=${items} />
    <${Table}
      className="checkpoints"
      caption="Checkpoints in the order they were requested, with the writes that claimed them"
      columns=${['Checkpoint', 'Tool', 'Status', 'Wait', 'Requested (UTC)', 'Writes']}
      rows=${checkpoints.checkpoints}
      renderRow=${(checkpoint) => html`
        <tr>
          <th scope="row">${checkpoint.checkpointId}</th>
          <td>${checkpoint.tool ?? '–'}</td>
          <td><span class=${`checkpoint-${checkpoint.status}`}>${checkpoint.status}</span></td>
          <td>${waitText(checkpoint)}</td>
          <td>${formatTime(checkpoint.requestedAt)}</td>
          <td>${checkpoint.writes.map(verdictText).join('; ') || '–'}</td>
        </tr>
      `}
    />
    <${Table}
      className="writes"
      caption="Writes in this task (tools not annotated read-only), each under its worst verdict"
      columns=${['Tool', 'Verdict', 'Checkpoint', 'Caller error', 'Started (UTC)']}
      rows=${checkpoints.writeList}
      renderRow=${(write) => html`
        <tr>
          <th scope="row">${write.tool ?? '–'}</th>
          <td><span class=${`verdict-${write.verdict}`}>${verdictText(write)}</span></td>
          <td>${write.checkpointId ?? '–'}</td>
          <td>${write.callerErrorType ?? '–'}</td>
          <td>${formatTime(write.startTime)}</td>
        </tr>
      `}
    />
  `;
}
