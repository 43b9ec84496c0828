import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface WebAsset {
  body: string;
  contentType: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The web view's own files, beside this module (copied into dist by the build). */
const OWN_ASSETS: Record<string, string> = {
  'app.js': JS,
  'api.js': JS,
  'format.js': JS,
  'layout.js': JS,
  'tasks-page.js': JS,
  'task-page.js': JS,
  'tools-page.js': JS,
  'auth-page.js': JS,
  'table.js': JS,
  'checkpoints-section.js': JS,
  'style.css': CSS,
  'favicon.svg': 'image/svg+xml',
};

/**
 * Third-party files served as they are published on npm, from the collector's own dependencies:
 * nothing is fetched from the internet, and no build step runs for users. Each is named by a
 * specifier the package exports and the browser ES module build in that entry's folder.
 */
const VENDOR_ASSETS: Record<string, { beside: string; file: string; contentType: string }> = {
  'preact.js': { beside: 'preact', file: 'preact.mjs', contentType: JS },
  'preact-hooks.js': { beside: 'preact/hooks', file: 'hooks.mjs', contentType: JS },
  'htm.js': { beside: 'htm', file: 'htm.module.js', contentType: JS },
  'uplot.js': { beside: 'uplot', file: 'uPlot.esm.js', contentType: JS },
  'uplot.css': { beside: 'uplot', file: 'uPlot.min.css', contentType: CSS },
};

/** Import map of the bare specifiers the vendored modules use, served inline and allowed by its hash. */
export const IMPORT_MAP = JSON.stringify({
  imports: {
    preact: '/assets/vendor/preact.js',
    'preact/hooks': '/assets/vendor/preact-hooks.js',
    htm: '/assets/vendor/htm.js',
    uplot: '/assets/vendor/uplot.js',
  },
});

const staticDir = new URL('./static/', import.meta.url);
const require = createRequire(import.meta.url);

/** Reads every asset once; a missing one fails at start-up, not on a user's first page. */
export const loadWebAssets = (): Map<string, WebAsset> => {
  const assets = new Map<string, WebAsset>();
  for (const [name, contentType] of Object.entries(OWN_ASSETS)) {
    assets.set(name, { body: readFileSync(new URL(name, staticDir), 'utf8'), contentType });
  }
  for (const [name, { beside, file, contentType }] of Object.entries(VENDOR_ASSETS)) {
    const path = join(dirname(require.resolve(beside)), file);
    assets.set(`vendor/${name}`, { body: readFileSync(path, 'utf8'), contentType });
  }
  return assets;
};
