import { html } from './layout.js';

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
