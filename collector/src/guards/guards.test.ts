import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { renderError } from '../api/index.js';
import { hostAllowList, jsonOnly } from './index.js';

const appWith = (allowedHosts: string[]) => {
  const app = new Hono();
  app.onError(renderError);
  app.use('*', hostAllowList({ allowedHosts }));
  app.use('/api/*', jsonOnly({ allowedHosts }));
  app.get('/api/things', (c) => c.json({ ok: true }));
  app.post('/api/things', (c) => c.json({ ok: true }, 201));
  return app;
};

const statusFor = async (app: Hono, headers: Record<string, string>, method = 'GET') =>
  (await app.request('/api/things', { method, headers, ...(method === 'POST' && { body: '{}' }) })).status;

describe('hostAllowList', () => {
  it('answers IP literals, localhost names and configured names, whatever the port, case or trailing dot', async () => {
    const app = appWith(['mcpscope.example.com']);
    for (const host of [
      '127.0.0.1',
      '10.1.2.3:4318',
      '[::1]:4318',
      '[fe80::1]',
      'localhost.',
      'api.localhost:4318',
      'MCPSCOPE.example.com:443',
    ]) {
      expect(await statusFor(app, { host }), host).toBe(200);
    }
  });

  it('refuses every other name, subdomains of configured names included', async () => {
    const app = appWith(['mcpscope.example.com']);
    for (const host of [
      'attacker.example',
      'evil.mcpscope.example.com',
      'localhost.attacker.example',
      '127.0.0.1.nip.io',
    ]) {
      expect(await statusFor(app, { host }), host).toBe(403);
    }
  });

  it('turns off with *', async () => {
    expect(await statusFor(appWith(['*']), { host: 'anything.example' })).toBe(200);
  });
});

describe('jsonOnly', () => {
  it('takes state changes only as JSON and only from origins the collector answers to', async () => {
    const app = appWith([]);
    const host = { host: '127.0.0.1:4318' };
    expect(await statusFor(app, { ...host, 'content-type': 'application/json' }, 'POST')).toBe(201);
    expect(await statusFor(app, { ...host, 'content-type': 'application/merge-patch+json' }, 'POST')).toBe(
      201,
    );
    expect(await statusFor(app, { ...host, 'content-type': 'text/plain' }, 'POST')).toBe(415);
    expect(await statusFor(app, { ...host, 'content-type': 'application/jsonx' }, 'POST')).toBe(415);
    const json = { ...host, 'content-type': 'application/json' };
    expect(await statusFor(app, { ...json, origin: 'http://localhost:3000' }, 'POST')).toBe(201);
    expect(await statusFor(app, { ...json, origin: 'https://attacker.example' }, 'POST')).toBe(403);
    expect(await statusFor(app, { ...json, origin: 'null' }, 'POST')).toBe(403);
    expect(await statusFor(app, { ...host, 'content-type': 'text/plain' }), 'reads need no body').toBe(200);
  });
});
