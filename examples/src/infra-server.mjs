import '@mcpscope/instrumentation/register';

// A Terraform-like infrastructure MCP server: read state, plan, approve, apply. Each workspace has a
// state with a lineage and a serial (its version, `lineage:serial`) and a lock held while an apply
// runs. Approvals are human checkpoints: `approve_plan` decides the checkpoint `plan_changes` proposed,
// and `apply` asks the operator itself by elicitation unless told the approval happened elsewhere.
// Every answer is deterministic so the demo's truth holds run after run. stdio by default;
// `--http --port N` serves Streamable HTTP on 127.0.0.1 and prints `{"listening":"<url>"}` on stderr.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { checkpoint, decideCheckpoint, proposeCheckpoint, recordExecution } from '@mcpscope/instrumentation';
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
    lineage: '3f1c9a2e-prod-network',
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
    lineage: '8b7d0c41-staging-web',
    serial: 97,
    resources: [
      { address: 'aws_autoscaling_group.web', type: 'aws_autoscaling_group', attributes: { max_size: '4' } },
      { address: 'aws_lb.staging', type: 'aws_lb', attributes: { scheme: 'internal' } },
    ],
  },
  'prod-data': {
    lineage: 'c52e6f90-prod-data',
    serial: 233,
    resources: [
      { address: 'aws_db_instance.inventory', type: 'aws_db_instance', attributes: { engine: 'postgres' } },
      { address: 'aws_s3_bucket.backups', type: 'aws_s3_bucket', attributes: { versioning: 'enabled' } },
    ],
  },
};

// Shared by every session of the process: a plan made over one HTTP request is applied over another.
const plans = new Map();
/** State locks by workspace, as a Terraform backend holds them: `{ id, operation, who }`. */
const locks = new Map();
let lockCount = 0;

/** The version of a workspace's state: what a plan was made against, and what an apply changes. */
const stateVersion = (workspace) => `${WORKSPACES[workspace].lineage}:${WORKSPACES[workspace].serial}`;

/** How long applying a change takes: replacing or destroying a database is slow. */
const changeDurationMs = (change) =>
  change.action === 'delete' && change.address.startsWith('aws_db_instance.') ? 1500 : 20;
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
const createInfraServer = (connection = newConnection()) => {
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
      // The plan awaits a reviewer: a checkpoint for the apply_plan call that will execute it.
      const approval = proposeCheckpoint({
        tool: 'apply_plan',
        arguments: { planId },
        stateVersion: stateVersion(workspace),
      });
      plans.set(planId, {
        workspace,
        changes,
        stateVersion: stateVersion(workspace),
        approval,
        approvedBy: undefined,
        applied: false,
      });
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
      decideCheckpoint(plan.approval, { outcome: 'approved', reviewer: approver });
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
      recordExecution({ checkpoint: plan.approval, stateVersion: stateVersion(plan.workspace) });
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
      // Refreshing reads the real infrastructure and changes nothing here: read-only.
      annotations: { readOnlyHint: true, idempotentHint: true },
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

  server.registerTool(
    'plan',
    {
      description:
        'Plan changes to a workspace against its current state (`terraform plan -out`). Returns the plan id and the state version it was made against.',
      inputSchema: { workspace: z.string(), changes: z.array(changeSchema).min(1) },
      annotations: { readOnlyHint: true },
    },
    async ({ workspace, changes }) => {
      if (!WORKSPACES[workspace]) return toolError(`Unknown workspace "${workspace}".`);
      const lock = locks.get(workspace);
      if (lock) return toolError(lockError(workspace, lock));
      const planId = `tfplan-${workspace}-${plans.size + 1}`;
      plans.set(planId, { workspace, changes, stateVersion: stateVersion(workspace), applied: false });
      const count = (action) => changes.filter((change) => change.action === action).length;
      return toolResult({
        planId,
        workspace,
        stateVersion: stateVersion(workspace),
        add: count('create'),
        change: count('update'),
        destroy: count('delete'),
      });
    },
  );

  server.registerTool(
    'apply',
    {
      description:
        'Apply a saved plan (`terraform apply PLAN`). Asks the operator to approve it first, unless autoApprove says the approval happened elsewhere. Holds the state lock while it runs.',
      inputSchema: { planId: z.string(), autoApprove: z.boolean().optional() },
      annotations: { destructiveHint: true },
    },
    async ({ planId, autoApprove }) => {
      const plan = plans.get(planId);
      if (!plan) return toolError(`Unknown plan "${planId}".`);
      if (plan.applied) return toolError(`Plan "${planId}" was already applied.`);
      if (!autoApprove) {
        const answer = await checkpoint({ kind: 'elicitation', stateVersion: plan.stateVersion }, () =>
          server.server.elicitInput({
            message: `Apply ${planId} to ${plan.workspace}? ${plan.changes.length} change(s).`,
            requestedSchema: { type: 'object', properties: {} },
          }),
        );
        if (answer.action !== 'accept') return toolError('Apply cancelled.');
      }
      const held = locks.get(plan.workspace);
      if (held) return toolError(lockError(plan.workspace, held));
      const lock = { id: `lock-${++lockCount}`, operation: 'OperationTypeApply', who: 'infra-server' };
      locks.set(plan.workspace, lock);
      // Applied against the state as it is now: if it moved since the plan, the plan was stale.
      recordExecution({ stateVersion: stateVersion(plan.workspace) });
      await connection.track(
        (async () => {
          for (const change of plan.changes) await sleep(changeDurationMs(change));
        })(),
      );
      plan.applied = true;
      WORKSPACES[plan.workspace].serial += 1;
      // The lock is released once the caller has the result; a caller gone mid-apply leaves it held.
      if (connection.dropped) {
        log('warn', 'connection dropped mid-apply: the state lock stays held', {
          workspace: plan.workspace,
          lockId: lock.id,
        });
      } else {
        locks.delete(plan.workspace);
      }
      return toolResult({ planId, applied: true, stateVersion: stateVersion(plan.workspace) });
    },
  );

  server.registerTool(
    'inject_drift',
    {
      description:
        'Demo hook: someone changes a workspace out of band (a console click), so its state version moves.',
      inputSchema: { workspace: z.string() },
    },
    async ({ workspace }) => {
      if (!WORKSPACES[workspace]) return toolError(`Unknown workspace "${workspace}".`);
      WORKSPACES[workspace].serial += 1;
      return toolResult({ workspace, stateVersion: stateVersion(workspace) });
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

const lockError = (workspace, lock) =>
  `Error acquiring the state lock for "${workspace}": held by ${lock.who} (ID ${lock.id}, ${lock.operation}).`;

/**
 * The caller's connection as an apply sees it: `dropped` once it went away before the answer, and the
 * applies in flight on it (a backend keeps applying when its caller goes: the connection closes after).
 */
const newConnection = () => ({
  dropped: false,
  applies: new Set(),
  track(work) {
    this.applies.add(work);
    return work.finally(() => this.applies.delete(work));
  },
});

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
    const connection = newConnection();
    const server = createInfraServer(connection);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      if (!res.writableFinished) connection.dropped = true;
      // An apply in flight runs to its end, as a backend's would: the server closes after it.
      void Promise.allSettled([...connection.applies]).then(() =>
        // After the apply's own continuations (its answer, its telemetry): closing aborts the handler.
        setImmediate(() => {
          void transport.close();
          void server.close();
        }),
      );
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
