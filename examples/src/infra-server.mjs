import '@mcpscope/instrumentation/register';

// A Terraform-like infrastructure MCP server: read state, plan, approve, apply. Every answer is
// deterministic so the demo's truth holds run after run. stdio by default; `--http --port N` serves
// Streamable HTTP on 127.0.0.1 and prints `{"listening":"<url>"}` on stderr.
import { parseArgs } from 'node:util';
import express from 'express';
import { z } from 'zod';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

/** Log lines go to stderr as JSON: on stdio, stdout is the protocol channel. */
const log = (level, message, fields = {}) =>
  process.stderr.write(`${JSON.stringify({ level, service: 'infra-server', message, ...fields })}\n`);

const WORKSPACES = {
  'prod-network': {
    serial: 412,
    resources: [
      { address: 'aws_vpc.main', type: 'aws_vpc', attributes: { cidr_block: '10.0.0.0/16' } },
      {
        address: 'aws_security_group.web',
        type: 'aws_security_group',
        attributes: { ingress: '0.0.0.0/0:443' },
      },
      { address: 'aws_lb.public', type: 'aws_lb', attributes: { scheme: 'internet-facing' } },
    ],
  },
  'staging-web': {
    serial: 97,
    resources: [
      { address: 'aws_autoscaling_group.web', type: 'aws_autoscaling_group', attributes: { max_size: '4' } },
      { address: 'aws_lb.staging', type: 'aws_lb', attributes: { scheme: 'internal' } },
    ],
  },
  'prod-data': {
    serial: 233,
    resources: [
      { address: 'aws_db_instance.inventory', type: 'aws_db_instance', attributes: { engine: 'postgres' } },
      { address: 'aws_s3_bucket.backups', type: 'aws_s3_bucket', attributes: { versioning: 'enabled' } },
    ],
  },
};

// Shared by every session of the process: a plan made over one HTTP request is applied over another.
const plans = new Map();
const refreshAttempts = new Map();

const text = (value) => JSON.stringify(value);
const toolResult = (structuredContent) => ({
  content: [{ type: 'text', text: text(structuredContent) }],
  structuredContent,
});
const toolError = (message) => ({ content: [{ type: 'text', text: message }], isError: true });

const changeSchema = z.object({
  action: z.enum(['create', 'update', 'delete']),
  address: z.string(),
  attribute: z.string().optional(),
  value: z.string().optional(),
});

/** One server instance: stdio uses one for the process, HTTP one per request (stateless). */
const createInfraServer = () => {
  const server = new McpServer({ name: 'infra-server', version: '0.1.0' });

  server.registerTool(
    'list_workspaces',
    {
      description: 'List the Terraform workspaces and their state serials.',
      annotations: { readOnlyHint: true },
    },
    async () =>
      toolResult({
        workspaces: Object.entries(WORKSPACES).map(([name, { serial, resources }]) => ({
          name,
          serial,
          resources: resources.length,
        })),
      }),
  );

  server.registerTool(
    'read_state',
    {
      description: 'Read the resources recorded in the state of a workspace.',
      inputSchema: { workspace: z.string() },
      annotations: { readOnlyHint: true },
    },
    async ({ workspace }) => {
      const state = WORKSPACES[workspace];
      // McpServer answers every error thrown by a tool as a tool result with isError.
      if (!state) return toolError(`Unknown workspace "${workspace}".`);
      return toolResult({ workspace, serial: state.serial, resources: state.resources });
    },
  );

  server.registerTool(
    'plan_changes',
    {
      description: 'Plan changes to a workspace. Returns a plan id to approve and apply.',
      inputSchema: {
        workspace: z.string(),
        changes: z.array(changeSchema).min(1),
        variables: z.record(z.string()).optional(),
      },
    },
    async ({ workspace, changes }) => {
      if (!WORKSPACES[workspace]) return toolError(`Unknown workspace "${workspace}".`);
      const planId = `plan-${workspace}-${plans.size + 1}`;
      const count = (action) => changes.filter((change) => change.action === action).length;
      plans.set(planId, { workspace, changes, approvedBy: undefined, applied: false });
      // Variables are used for planning and never echoed: they may hold credentials.
      return toolResult({
        planId,
        workspace,
        add: count('create'),
        change: count('update'),
        destroy: count('delete'),
      });
    },
  );

  server.registerTool(
    'approve_plan',
    {
      description: 'Record the approval of a plan by a reviewer.',
      inputSchema: { planId: z.string(), approver: z.string() },
    },
    async ({ planId, approver }) => {
      const plan = plans.get(planId);
      if (!plan) return toolError(`Unknown plan "${planId}".`);
      plan.approvedBy = approver;
      return toolResult({ planId, approvedBy: approver });
    },
  );

  server.registerTool(
    'apply_plan',
    {
      description: 'Apply an approved plan.',
      inputSchema: { planId: z.string() },
      annotations: { destructiveHint: true },
    },
    async ({ planId }) => {
      const plan = plans.get(planId);
      if (!plan) return toolError(`Unknown plan "${planId}".`);
      if (!plan.approvedBy) return toolError(`Plan "${planId}" has not been approved.`);
      if (plan.applied) return toolError(`Plan "${planId}" was already applied.`);
      plan.applied = true;
      WORKSPACES[plan.workspace].serial += 1;
      return toolResult({ planId, applied: true, serial: WORKSPACES[plan.workspace].serial });
    },
  );

  server.registerTool(
    'flaky_refresh',
    {
      description:
        'Refresh the state of a workspace. The state lock is held for the first `failTimes` calls with the same arguments, then the refresh succeeds.',
      inputSchema: { workspace: z.string(), failTimes: z.number().int().min(0).max(100) },
      annotations: { idempotentHint: true },
    },
    async ({ workspace, failTimes }) => {
      if (!WORKSPACES[workspace]) return toolError(`Unknown workspace "${workspace}".`);
      const key = `${workspace}\u0000${failTimes}`;
      const attempt = (refreshAttempts.get(key) ?? 0) + 1;
      refreshAttempts.set(key, attempt);
      if (attempt <= failTimes)
        return toolError(`State lock for "${workspace}" is held (attempt ${attempt}).`);
      return toolResult({ workspace, refreshed: true, attempt, serial: WORKSPACES[workspace].serial });
    },
  );

  server.registerResource(
    'state',
    new ResourceTemplate('state://{workspace}', {
      list: async () => ({
        resources: Object.keys(WORKSPACES).map((name) => ({
          uri: `state://${name}`,
          name,
          mimeType: 'application/json',
        })),
      }),
    }),
    { description: 'The state of a workspace as JSON.', mimeType: 'application/json' },
    async (uri, { workspace }) => {
      const state = WORKSPACES[String(workspace)];
      if (!state) throw new McpError(ErrorCode.InvalidParams, `Unknown workspace "${workspace}".`);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: text(state) }] };
    },
  );

  server.registerPrompt(
    'review_plan',
    {
      description: 'Ask a reviewer to check a planned change against the current state.',
      argsSchema: { workspace: z.string() },
    },
    async ({ workspace }) => {
      const state = WORKSPACES[workspace];
      const summary = state
        ? state.resources.map((resource) => resource.address).join(', ')
        : 'no state recorded';
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: `Review the planned change to workspace ${workspace}. Current resources: ${summary}. Flag anything that widens network exposure.`,
            },
          },
        ],
      };
    },
  );

  return server;
};

const serveStdio = async () => {
  const server = createInfraServer();
  await server.connect(new StdioServerTransport());
  // The client closed our stdin: nothing more will come.
  process.stdin.once('end', () => void server.close());
  log('info', 'serving on stdio');
};

const methodNotAllowed = (_req, res) =>
  res.status(405).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });

const serveHttp = async ({ host, port }) => {
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.post('/mcp', async (req, res) => {
    const server = createInfraServer();
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

  const httpServer = await new Promise((resolve, reject) => {
    const listening = app.listen(port, host, (error) => (error ? reject(error) : resolve(listening)));
  });
  const { port: boundPort } = httpServer.address();
  process.stderr.write(`${JSON.stringify({ listening: `http://${host}:${boundPort}/mcp` })}\n`);
  return httpServer;
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      http: { type: 'boolean', default: false },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  if (!values.http) return serveStdio();
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    log('error', '--port expects an integer between 0 and 65535');
    process.exit(2);
  }
  const httpServer = await serveHttp({ host: values.host, port });
  const stop = () => {
    httpServer.close();
    httpServer.closeAllConnections();
    // Leave time for the telemetry flush; never hang.
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
};

await main();
