// What every page shares: the header and navigation, the token form, errors.
import { h } from 'preact';
import htm from 'htm';
import { AuthRequired, setApiToken } from './api.js';

/** Tagged templates that build Preact elements; every interpolated value is rendered as text. */
export const html = htm.bind(h);

const NAV = [
  ['tasks', '/', 'Tasks'],
  ['tools', '/tools', 'Tools'],
  ['auth', '/auth', 'Auth'],
];

export const grafanaUrl = () => document.body.dataset.grafanaUrl || '';

/** The trace's page in the tracing backend that receives forwarded spans, when one is configured. */
export const traceHref = (traceId) => {
  const template = document.body.dataset.traceUrl;
  return template ? template.replace('{traceId}', encodeURIComponent(traceId)) : null;
};

/** A link to a Grafana dashboard when a Grafana URL is configured; nothing otherwise. */
export function GrafanaLink({ uid, label, params }) {
  const base = grafanaUrl();
  if (!base) return null;
  const url = new URL(`d/${uid}`, base.endsWith('/') ? base : `${base}/`);
  for (const [name, value] of Object.entries(params ?? {})) url.searchParams.set(name, value);
  return html`<a class="grafana" href=${url.href} rel="noreferrer">${label} in Grafana</a>`;
}

export function Layout({ page, title, children, actions }) {
  const current = page === 'task' ? 'tasks' : page;
  return html`
    <header class="top">
      <a class="brand" href="/">mcpscope</a>
      <nav aria-label="Pages">
        <ul>
          ${NAV.map(
            ([name, href, label]) =>
              html`<li>
                <a href=${href} aria-current=${name === current ? 'page' : undefined}>${label}</a>
              </li>`,
          )}
        </ul>
      </nav>
    </header>
    <main id="main" tabindex="-1">
      <div class="title-row">
        <h1>${title}</h1>
        ${actions}
      </div>
      ${children}
    </main>
  `;
}

function TokenForm() {
  const submit = (event) => {
    event.preventDefault();
    setApiToken(new FormData(event.currentTarget).get('token'));
    location.reload();
  };
  return html`
    <form class="token" onSubmit=${submit}>
      <p>This collector asks for a bearer token, as its API does. The token stays in this tab only.</p>
      <label for="token">API bearer token</label>
      <input id="token" name="token" type="password" autocomplete="off" required />
      <button type="submit">Use token</button>
    </form>
  `;
}

/** Renders a failed load: the token form when the API asks for one, else the API's message. */
export function LoadError({ error }) {
  if (error instanceof AuthRequired) return html`<${TokenForm} />`;
  return html`<p class="error" role="alert">Could not load: ${error.message}</p>`;
}
