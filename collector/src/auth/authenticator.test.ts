import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, type Authenticator } from './authenticator.js';
import { requireAuth } from './require-auth.js';
import { AUDIENCE, hostileTokens, ISSUER, startJwksServer, type JwksServer } from './test-support/jwks.js';
import type { IngestProtocol } from '../model/ingest-events.js';

describe('createAuthenticator', () => {
  let jwks: JwksServer;
  let authenticator: Authenticator;

  beforeAll(async () => {
    jwks = await startJwksServer();
    authenticator = createAuthenticator({
      tokens: ['static-ingest-token'],
      oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwks.jwksUrl },
    });
  });
  afterAll(() => jwks.close());

  it('accepts a valid JWT from the JWKS and names its subject', async () => {
    expect(await authenticator.authenticate(`Bearer ${await jwks.sign()}`)).toEqual({
      ok: true,
      subject: 'exporter@ci',
    });
  });

  it('names a client-credential JWT without sub by its client id', async () => {
    const clientToken = await jwks.sign({ sub: undefined, azp: 'deploy-bot-client' });
    expect(await authenticator.authenticate(`Bearer ${clientToken}`)).toEqual({
      ok: true,
      subject: 'deploy-bot-client',
    });
  });

  it('refuses forged and faulty JWTs with the reason on-call should see', async () => {
    for (const [, token, reason] of await hostileTokens(jwks)) {
      expect(await authenticator.authenticate(`Bearer ${token}`)).toEqual({ ok: false, reason });
    }
  });

  it('accepts the right static token, refuses a wrong one and reports a missing one', async () => {
    expect(await authenticator.authenticate('Bearer static-ingest-token')).toEqual({
      ok: true,
      subject: 'static-token-1',
    });
    expect(await authenticator.authenticate('bearer static-ingest-token')).toMatchObject({ ok: true });
    expect(await authenticator.authenticate('Bearer static-ingest-tokeN')).toEqual({
      ok: false,
      reason: 'invalid_token',
    });
    expect(await authenticator.authenticate('Basic c3RhdGljOmluZ2VzdA==')).toEqual({
      ok: false,
      reason: 'invalid_token',
    });
    expect(await authenticator.authenticate(undefined)).toEqual({ ok: false, reason: 'missing_token' });
    expect(await authenticator.authenticate('  ')).toEqual({ ok: false, reason: 'missing_token' });
  });

  it('keeps no token in a form that can be read back', () => {
    expect(JSON.stringify(authenticator)).not.toContain('static-ingest-token');
    expect(createAuthenticator({ tokens: [] }).isEnabled).toBe(false);
    expect(createAuthenticator({ tokens: ['x'] }).isEnabled).toBe(true);
  });
});

describe('requireAuth', () => {
  it('answers 401 { code, message } with WWW-Authenticate and counts the reason', async () => {
    const failures: Array<[IngestProtocol, string]> = [];
    const observer = {
      received() {},
      rejected() {},
      redacted() {},
      authFailed: (p: IngestProtocol, r: string) => failures.push([p, r]),
    };
    const app = new Hono();
    app.use(
      '/api/*',
      requireAuth({
        authenticator: createAuthenticator({ tokens: ['api-token'] }),
        protocol: 'api',
        observer,
      }),
    );
    app.get('/api/tasks', (c) => c.json({ tasks: [] }));

    const missing = await app.request('/api/tasks');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(await missing.json()).toEqual({ code: 'missing_token', message: 'a bearer token is required' });

    const wrong = await app.request('/api/tasks', { headers: { authorization: 'Bearer nope-secret' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('nope-secret');

    const right = await app.request('/api/tasks', { headers: { authorization: 'Bearer api-token' } });
    expect(right.status).toBe(200);
    expect(failures).toEqual([
      ['api', 'missing_token'],
      ['api', 'invalid_token'],
    ]);
  });

  it('lets everything through when no method is configured', async () => {
    const app = new Hono();
    const observer = { received() {}, rejected() {}, redacted() {}, authFailed() {} };
    app.use(requireAuth({ authenticator: createAuthenticator(), protocol: 'api', observer }));
    app.get('/', (c) => c.text('open'));
    expect((await app.request('/')).status).toBe(200);
  });
});
