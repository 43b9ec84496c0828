import { html } from './layout.js';

/** Terms and their values, as the top of a task page and its checkpoints show them. */
export function TermList({ items, className = 'summary' }) {
  return html`
    <dl class=${className}>
      ${items.map(
        ([term, value]) =>
          html`<div>
            <dt>${term}</dt>
            <dd>${value}</dd>
          </div>`,
      )}
    </dl>
  `;
}

/**
 * A data table as every page draws one: column headers, an optional caption, one row per item, in a
 * scrolling wrapper; a sentence instead when there is nothing to show. Rows stay the page's own.
 */
export function Table({ columns, rows, renderRow, caption, className, empty }) {
  if (rows.length === 0 && empty !== undefined) return html`<p>${empty}</p>`;
  return html`
    <div class="table-wrap">
      <table class=${className}>
        ${
          caption
            ? html`<caption>
                ${caption}
              </caption>`
            : null
        }
        <thead>
          <tr>
            ${columns.map((column) => html`<th scope="col">${column}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map(renderRow)}
        </tbody>
      </table>
    </div>
  `;
}
