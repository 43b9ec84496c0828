import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWK } from 'jose';

export const ISSUER = 'https://login.example.test/tenant-1/v2.0';
export const AUDIENCE = 'api://mcpscope-collector';

/** A JWKS endpoint on loopback serving one RSA public key, as an identity provider would. */
export async function startJwksServer() {
  const signing = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(signing.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((request, response) => {
    if (request.url !== '/keys') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const sign = (
    claims: Record<string, unknown> = {},
    options: { kid?: string; key?: Parameters<SignJWT['sign']>[0]; withoutExp?: boolean } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ sub: 'exporter@ci', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'key-1' })
      .setIssuer(typeof claims.iss === 'string' ? claims.iss : ISSUER)
      .setAudience(typeof claims.aud === 'string' ? claims.aud : AUDIENCE)
      .setIssuedAt(now - 60);
    if (!options.withoutExp) jwt.setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now + 600);
    return jwt.sign(options.key ?? signing.privateKey);
  };

  return {
    jwksUrl: `http://127.0.0.1:${port}/keys`,
    sign,
    strangerKey: stranger.privateKey,
    publicKeyPem: await exportSPKI(signing.publicKey),
    /** Stops answering, as an identity provider in an outage: open connections are closed too. */
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type JwksServer = Awaited<ReturnType<typeof startJwksServer>>;

/** The forged and faulty tokens every receiver must refuse, with the reason it must count. */
export async function hostileTokens(
  jwks: JwksServer,
): Promise<Array<[string, string, 'expired_token' | 'invalid_token']>> {
  const now = Math.floor(Date.now() / 1000);
  const hmacWithPublicKey = await new SignJWT({ sub: 'forger' })
    .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(jwks.publicKeyPem));
  const unsigned = new UnsecuredJWT({ sub: 'forger' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime(now + 600)
    .encode();
  return [
    ['expired', await jwks.sign({ exp: now - 3600 }), 'expired_token'],
    ['not yet valid', await jwks.sign({ nbf: now + 3600 }), 'invalid_token'],
    ['for another audience', await jwks.sign({ aud: 'api://someone-else' }), 'invalid_token'],
    ['from another issuer', await jwks.sign({ iss: 'https://evil.example.test/' }), 'invalid_token'],
    ['with alg none', unsigned, 'invalid_token'],
    [
      'signed by an unknown key',
      await jwks.sign({}, { kid: 'key-2', key: jwks.strangerKey }),
      'invalid_token',
    ],
    ['HS256 signed with the public key', hmacWithPublicKey, 'invalid_token'],
    ['not a JWT at all', 'definitely-not-a-jwt', 'invalid_token'],
  ];
}
