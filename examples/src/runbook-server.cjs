require('@mcpscope/instrumentation/register');

// An incident-response MCP server written against the low-level `Server`: runbooks, tickets,
// paging. stdio by default; `--http --port N` serves Streamable HTTP on 127.0.0.1 behind bearer
// auth, with a small in-memory OAuth authorization server in the same process (dynamic client
// registration, authorization code with PKCE, refresh_token grant). `--access-token-ttl S` sets
// how long access tokens live, so a demo can watch one expire.
const { randomBytes, randomUUID } = require('node:crypto');
const { parseArgs } = require('node:util');
const express = require('express');
const { z } = require('zod');
const { Server } = require('@modelcontextprotocol/sdk/server/index.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { requireBearerAuth } = require('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js');
const {
  mcpAuthRouter,
  getOAuthProtectedResourceMetadataUrl,
} = require('@modelcontextprotocol/sdk/server/auth/router.js');
const { InvalidGrantError, InvalidTokenError } = require('@modelcontextprotocol/sdk/server/auth/errors.js');
const {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} = require('@modelcontextprotocol/sdk/types.js');

/** The scope `/mcp` requires; `status:read` is issued too, and is not enough. */
const RUNBOOK_SCOPE = 'runbooks';
const SUPPORTED_SCOPES = [RUNBOOK_SCOPE, 'status:read'];

/** Log lines go to stderr as JSON: on stdio, stdout is the protocol channel. Never a payload. */
const log = (level, message, fields = {}) =>
  process.stderr.write(`${JSON.stringify({ level, service: 'runbook-server', message, ...fields })}\n`);

const RUNBOOKS = [
  { id: 'RB-101', title: 'Database failover', tags: ['database', 'failover', 'postgres', 'primary'] },
  { id: 'RB-102', title: 'Replica lag', tags: ['database', 'replica', 'lag', 'postgres'] },
  { id: 'RB-203', title: 'Credential rotation', tags: ['credential', 'rotation', 'secrets', 'leak'] },
  { id: 'RB-310', title: 'Load balancer 5xx spike', tags: ['lb', 'http', '5xx', 'frontend'] },
];

const ONCALL = {
  'inventory-db': 'dba-primary',
  'web-frontend': 'web-oncall',
  'payments-api': 'payments-oncall',
};

const severity = z.enum(['low', 'medium', 'high', 'critical']);
const toolInputs = {
  search_runbooks: z.object({ query: z.string().min(1).max(200) }),
  open_ticket: z.object({
    title: z.string().min(1).max(200),
    severity,
    description: z.string().max(10_000),
    reporter: z.record(z.unknown()).optional(),
  }),
  page_oncall: z.object({ service: z.string(), severity, summary: z.string().max(500) }),
};

const TOOLS = [
  {
    name: 'search_runbooks',
    description: 'Find runbooks whose tags match words of the query.',
    inputSchema: {
      type: 'object',
      properties: { query: { type: 'string' } },
      required: ['query'],
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'open_ticket',
    description: 'Open an incident ticket.',
    inputSchema: {
      type: 'object',
      properties: {
        title: { type: 'string' },
        severity: { type: 'string', enum: severity.options },
        description: { type: 'string' },
        reporter: { type: 'object' },
      },
      required: ['title', 'severity', 'description'],
    },
  },
  {
    name: 'page_oncall',
    description: 'Page the on-call engineer of a service. An unknown service is an invalid-params error.',
    inputSchema: {
      type: 'object',
      properties: {
        service: { type: 'string', enum: Object.keys(ONCALL) },
        severity: { type: 'string', enum: severity.options },
        summary: { type: 'string' },
      },
      required: ['service', 'severity', 'summary'],
    },
  },
];

// Process-wide, so ticket and incident numbers follow each other across HTTP requests.
let ticketCount = 0;
let pageCount = 0;

const toolResult = (structuredContent) => ({
  content: [{ type: 'text', text: JSON.stringify(structuredContent) }],
  structuredContent,
});

const runTool = (name, args) => {
  switch (name) {
    case 'search_runbooks': {
      const words = args.query.toLowerCase().split(/\s+/);
      const matches = RUNBOOKS.filter((runbook) => runbook.tags.some((tag) => words.includes(tag)));
      return toolResult({ runbooks: matches.map(({ id, title }) => ({ id, title })) });
    }
    case 'open_ticket':
      ticketCount += 1;
      // The description and reporter are stored, never echoed: they may quote credentials.
      return toolResult({ ticketId: `INC-${1000 + ticketCount}`, severity: args.severity, status: 'open' });
    case 'page_oncall': {
      const engineer = ONCALL[args.service];
      // A caller error, answered as a JSON-RPC error rather than a tool result.
      if (!engineer) throw new McpError(ErrorCode.InvalidParams, `Unknown service "${args.service}".`);
      pageCount += 1;
      return toolResult({ pageId: `PG-${500 + pageCount}`, paged: engineer, severity: args.severity });
    }
    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool "${name}".`);
  }
};

const createRunbookServer = () => {
  const server = new Server({ name: 'runbook-server', version: '0.1.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name, arguments: rawArguments = {} } = request.params;
    const schema = toolInputs[name];
    if (!schema) throw new McpError(ErrorCode.InvalidParams, `Unknown tool "${name}".`);
    const parsed = schema.safeParse(rawArguments);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
      throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for ${name}: ${fields}.`);
    }
    return runTool(name, parsed.data);
  });
  return server;
};

const opaqueToken = () => randomBytes(24).toString('base64url');

/**
 * An in-memory OAuth authorization server for the SDK's `mcpAuthRouter`. It approves every
 * authorization request at once (there is no user to ask) and grants the requested scopes.
 */
class DemoAuthorizationServer {
  constructor({ accessTokenTtlSeconds }) {
    this.accessTokenTtlMs = accessTokenTtlSeconds * 1000;
    this.clients = new Map();
    this.codes = new Map();
    this.accessTokens = new Map();
    this.refreshTokens = new Map();
  }

  get clientsStore() {
    return {
      getClient: (clientId) => this.clients.get(clientId),
      registerClient: (metadata) => {
        const client = {
          ...metadata,
          client_id: randomUUID(),
          client_id_issued_at: Math.floor(Date.now() / 1000),
        };
        this.clients.set(client.client_id, client);
        return client;
      },
    };
  }

  async authorize(client, params, res) {
    const code = opaqueToken();
    this.codes.set(code, { clientId: client.client_id, params });
    const target = new URL(params.redirectUri);
    target.searchParams.set('code', code);
    if (params.state !== undefined) target.searchParams.set('state', params.state);
    res.redirect(302, target.href);
  }

  async challengeForAuthorizationCode(client, authorizationCode) {
    const grant = this.codes.get(authorizationCode);
    if (!grant || grant.clientId !== client.client_id)
      throw new InvalidGrantError('Unknown authorization code');
    return grant.params.codeChallenge;
  }

  async exchangeAuthorizationCode(client, authorizationCode) {
    const grant = this.codes.get(authorizationCode);
    if (!grant || grant.clientId !== client.client_id)
      throw new InvalidGrantError('Unknown authorization code');
    this.codes.delete(authorizationCode);
    const scopes = grant.params.scopes?.length ? grant.params.scopes : [RUNBOOK_SCOPE];
    return this.issueTokens(client.client_id, scopes, grant.params.resource);
  }

  async exchangeRefreshToken(client, refreshToken) {
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant || grant.clientId !== client.client_id) throw new InvalidGrantError('Unknown refresh token');
    // Refresh tokens rotate: each one is good for a single refresh.
    this.refreshTokens.delete(refreshToken);
    return this.issueTokens(client.client_id, grant.scopes, grant.resource);
  }

  async verifyAccessToken(token) {
    const grant = this.accessTokens.get(token);
    if (!grant) throw new InvalidTokenError('Invalid access token');
    // Seconds with a fraction: the bearer middleware compares with Date.now() / 1000.
    return {
      token,
      clientId: grant.clientId,
      scopes: grant.scopes,
      expiresAt: grant.expiresAtMs / 1000,
      resource: grant.resource,
    };
  }

  issueTokens(clientId, scopes, resource) {
    const accessToken = opaqueToken();
    const refreshToken = opaqueToken();
    const expiresAtMs = Date.now() + this.accessTokenTtlMs;
    this.accessTokens.set(accessToken, { clientId, scopes, resource, expiresAtMs });
    this.refreshTokens.set(refreshToken, { clientId, scopes, resource });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: Math.max(1, Math.ceil(this.accessTokenTtlMs / 1000)),
      refresh_token: refreshToken,
      scope: scopes.join(' '),
    };
  }
}

const serveStdio = async () => {
  const server = createRunbookServer();
  await server.connect(new StdioServerTransport());
  // The client closed our stdin: nothing more will come.
  process.stdin.once('end', () => void server.close());
  log('info', 'serving on stdio');
};

const methodNotAllowed = (_req, res) =>
  res.status(405).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });

const listen = (app, port, host) =>
  new Promise((resolve, reject) => {
    const httpServer = app.listen(port, host, (error) => (error ? reject(error) : resolve(httpServer)));
  });

const serveHttp = async ({ host, port, accessTokenTtlSeconds }) => {
  const app = express();
  const httpServer = await listen(app, port, host);
  // URLs name the bound port, known only once listening (port 0 picks one).
  const origin = `http://${host}:${httpServer.address().port}`;
  const mcpUrl = new URL('/mcp', origin);
  const provider = new DemoAuthorizationServer({ accessTokenTtlSeconds });
  const noRateLimit = { rateLimit: false };

  app.use(
    mcpAuthRouter({
      provider,
      issuerUrl: new URL(origin),
      resourceServerUrl: mcpUrl,
      scopesSupported: SUPPORTED_SCOPES,
      resourceName: 'Incident runbooks',
      authorizationOptions: noRateLimit,
      tokenOptions: noRateLimit,
      clientRegistrationOptions: noRateLimit,
    }),
  );
  const bearerAuth = requireBearerAuth({
    verifier: provider,
    requiredScopes: [RUNBOOK_SCOPE],
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpUrl),
  });
  app.post('/mcp', express.json({ limit: '1mb' }), bearerAuth, async (req, res) => {
    const server = createRunbookServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      log('error', 'request failed', { error: error instanceof Error ? error.name : 'unknown' });
      if (!res.headersSent) {
        res
          .status(500)
          .json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error.' }, id: null });
      }
    }
  });
  app.get('/mcp', methodNotAllowed);
  app.delete('/mcp', methodNotAllowed);

  process.stderr.write(`${JSON.stringify({ listening: mcpUrl.href })}\n`);
  return httpServer;
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      http: { type: 'boolean', default: false },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'access-token-ttl': { type: 'string', default: '3600' },
    },
  });
  if (!values.http) return serveStdio();
  const port = Number(values.port);
  const accessTokenTtlSeconds = Number(values['access-token-ttl']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    log('error', '--port expects an integer between 0 and 65535');
    process.exit(2);
  }
  if (!Number.isFinite(accessTokenTtlSeconds) || accessTokenTtlSeconds <= 0) {
    log('error', '--access-token-ttl expects a positive number of seconds');
    process.exit(2);
  }
  const httpServer = await serveHttp({ host: values.host, port, accessTokenTtlSeconds });
  const stop = () => {
    httpServer.close();
    httpServer.closeAllConnections();
    // Leave time for the telemetry flush; never hang.
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
};

main().catch((error) => {
  log('error', 'could not start', { error: error instanceof Error ? error.message : 'unknown' });
  process.exit(1);
});
