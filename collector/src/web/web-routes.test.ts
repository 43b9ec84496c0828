import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CollectorMetrics } from '../metrics/index.js';
import { CONTENT_SECURITY_POLICY, webRoutes } from './web-routes.js';

describe('web routes', () => {
  const web = webRoutes({ grafanaUrl: 'https://grafana.example.com/"><script>x</script>' });

  it.each(['/', '/tasks/task-a', '/tools', '/auth'])(
    'serves %s as a page under a strict policy',
    async (path) => {
      const response = await web.request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    },
  );

  it('allows the one inline script, the import map, by its hash', async () => {
    const page = await (await web.request('/')).text();
    const importMap = /<script type="importmap">([^<]*)<\/script>/.exec(page)?.[1];
    expect(importMap).toBeDefined();
    const hash = createHash('sha256').update(importMap!).digest('base64');
    expect(CONTENT_SECURITY_POLICY).toContain(`'sha256-${hash}'`);
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    expect(page.match(/<script/g)).toHaveLength(2);
  });

  it('escapes the configured Grafana URL into its attribute', async () => {
    const page = await (await web.request('/')).text();
    expect(page).toContain(
      'data-grafana-url="https://grafana.example.com/&quot;&gt;&lt;script&gt;x&lt;/script&gt;"',
    );
  });

  it('serves its own and the vendored scripts with their types, and nothing else', async () => {
    for (const [path, type] of [
      ['/assets/app.js', 'text/javascript'],
      ['/assets/style.css', 'text/css'],
      ['/assets/vendor/preact.js', 'text/javascript'],
      ['/assets/vendor/uplot.js', 'text/javascript'],
      ['/assets/vendor/uplot.css', 'text/css'],
    ] as const) {
      const response = await web.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(new RegExp(`^${type}`));
    }
    for (const path of [
      '/assets/../web-routes.ts',
      '/assets/%2e%2e/web-routes.ts',
      '/assets/vendor/other.js',
    ]) {
      expect((await web.request(path)).status, path).toBe(404);
    }
  });

  it('counts auth failures by service, side and reason from the collector metrics', async () => {
    const metrics = new CollectorMetrics();
    metrics.authFailed('http_protobuf', 'expired_token');
    metrics.authFailed('http_protobuf', 'expired_token');
    const response = await webRoutes({ metricsRegistry: metrics.registry }).request('/api/auth/counts');
    expect(await response.json()).toMatchObject({
      failures: [{ service: 'mcpscope-collector', side: 'collector', reason: 'expired_token', count: 2 }],
      refreshes: [],
    });
  });
});
