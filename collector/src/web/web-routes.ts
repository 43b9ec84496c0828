import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { html, raw } from 'hono/html';
import type { Registry } from 'prom-client';
import { readAuthCounts } from './auth-counts.js';
import { IMPORT_MAP, loadWebAssets } from './web-assets.js';

export interface WebRoutesOptions {
  /** Base URL of the Grafana that shows mcpscope's dashboards; pages link to them when set. */
  grafanaUrl?: string;
  /** A trace in the tracing backend that receives forwarded spans, `{traceId}` standing for its id. */
  traceUrl?: string;
  /** The collector's metrics, for the auth page's counts (under /api: the API's auth applies). */
  metricsRegistry?: Registry;
}

/** Uids of the generated dashboards the pages link to (dashboards/ derives them from the same prefix). */
export const GRAFANA_DASHBOARDS = {
  tasks: 'mcpscope-tasks',
  tools: 'mcpscope-tool',
  auth: 'mcpscope-auth',
} as const;

const importMapHash = createHash('sha256').update(IMPORT_MAP).digest('base64');
// Built outside the page template so that no formatting of the template can change the hashed text.
const IMPORT_MAP_TAG = raw(`<script type="importmap">${IMPORT_MAP}</script>`);

/**
 * Scripts and styles only from this origin (plus the one inline import map, by hash), data only from
 * the API on this origin, no framing, no plugins, forms only back here.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src 'self' 'sha256-${importMapHash}'`,
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_TITLES = { tasks: 'Tasks', task: 'Task', tools: 'Tools', auth: 'Auth' } as const;
type PageName = keyof typeof PAGE_TITLES;

/**
 * The web view: a few HTML shells and their scripts. The pages hold no data; their scripts read it
 * from /api with the same bearer token the API asks of everyone, so a page is no way around auth.
 */
export const webRoutes = ({ grafanaUrl, traceUrl, metricsRegistry }: WebRoutesOptions = {}): Hono => {
  const startedAt = new Date().toISOString();
  const assets = loadWebAssets();
  const web = new Hono();

  // Only on the web view's own paths: a sub-app's catch-all middleware would reach /api and OTLP too.
  for (const path of ['/', '/tasks/*', '/tools', '/auth', '/assets/*']) {
    web.use(path, async function securityHeaders(c, next) {
      await next();
      c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      c.header('X-Content-Type-Options', 'nosniff');
      c.header('Referrer-Policy', 'no-referrer');
      c.header('X-Frame-Options', 'DENY');
      c.header('Cross-Origin-Opener-Policy', 'same-origin');
      c.header('Cross-Origin-Resource-Policy', 'same-origin');
    });
  }

  const shell = (page: PageName) =>
    html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>${PAGE_TITLES[page]} · mcpscope</title>
          <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
          <link rel="stylesheet" href="/assets/style.css" />
          <link rel="stylesheet" href="/assets/vendor/uplot.css" />
          ${IMPORT_MAP_TAG}
          <script type="module" src="/assets/app.js"></script>
        </head>
        <body data-page="${page}" data-grafana-url="${grafanaUrl ?? ''}" data-trace-url="${traceUrl ?? ''}">
          <a class="skip" href="#main">Skip to content</a>
          <div id="app">
            <main id="main"><p>Loading…</p></main>
          </div>
          <noscript>The mcpscope web view needs JavaScript; the same data is at /api/tasks.</noscript>
        </body>
      </html>`;

  web.get('/', (c) => c.html(shell('tasks')));
  web.get('/tasks/:taskId', (c) => c.html(shell('task')));
  web.get('/tools', (c) => c.html(shell('tools')));
  web.get('/auth', (c) => c.html(shell('auth')));
  web.get('/assets/:name{.+}', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (asset === undefined) return c.notFound();
    return c.body(asset.body, 200, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
  });
  if (metricsRegistry !== undefined) {
    const registry = metricsRegistry;
    web.get('/api/auth/counts', async (c) =>
      c.json({ since: startedAt, ...(await readAuthCounts(registry)) }),
    );
  }
  return web;
};
