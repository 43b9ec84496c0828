// The demo's script and its known truth, as data. The demo agent runs the steps; the end-to-end test
// imports the same module and checks that the collector reports exactly the truth of every task.

const base64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Fake but realistically shaped credentials the agent passes in tool arguments (and one forged
 * bearer token it presents). None of them may appear in any exported span, stored byte, API
 * answer, metric or log.
 */
export const SECRETS = Object.freeze({
  awsSecretAccessKey: 'kT9vQ2xR7mW4pL8nZ3bC6yF1hJ5sD0gA2eU7iO4q',
  githubToken: 'ghp_R4nd0mL00k1ngT0k3nF0rTh3D3m0Ag3ntX9Q',
  password: 'Correct-Horse-Battery-Staple-42',
  jwt: [
    base64url({ alg: 'HS256', typ: 'JWT' }),
    base64url({ sub: 'deploy-bot', iss: 'https://ci.example.internal', exp: 1893456000 }),
    'Xq3vR8tY1uI6oP4aS9dF2gH7jK0lZ5xC3vB8nM1qW6e',
  ].join('.'),
  databasePassword: 'Pg-s3cr3t-2f9c81d7',
  get databaseUrl() {
    return `postgresql://deploy:${this.databasePassword}@db.inventory.internal:5432/inventory`;
  },
  forgedAccessToken: 'forged-7d1c4b9e2a5f8c3d6e0b1a4f7c2d5e8b',
});

/** Every secret value used by the script, for a test to grep every output for. */
export const SECRET_VALUES = Object.freeze([
  SECRETS.awsSecretAccessKey,
  SECRETS.githubToken,
  SECRETS.password,
  SECRETS.jwt,
  SECRETS.databasePassword,
  SECRETS.databaseUrl,
  SECRETS.forgedAccessToken,
]);

/** `OTEL_SERVICE_NAME` of every process of the demo. */
export const SERVICE_NAMES = Object.freeze({
  agent: 'demo-agent',
  'infra-stdio': 'infra-server-stdio',
  'infra-http': 'infra-server-http',
  'runbook-stdio': 'runbook-server-stdio',
  'runbook-http': 'runbook-server-http',
  'change-http': 'change-server-http',
});

/**
 * Lifetime of the runbook server's access tokens in the demo: short, so one can expire mid-task,
 * and long enough that a loaded machine still connects and calls before the first one expires.
 */
export const ACCESS_TOKEN_TTL_SECONDS = 3;

/**
 * The servers of the demo: which script, which transport, which MCP SDK line (v1 unless `sdk: 'v2'`,
 * which the agent calls with a v2 client). The agent starts one process each.
 */
export const SERVERS = Object.freeze({
  'infra-stdio': { script: 'infra-server.mjs', transport: 'stdio', args: [] },
  'infra-http': { script: 'infra-server.mjs', transport: 'http', args: ['--http', '--port', '0'] },
  'runbook-stdio': { script: 'runbook-server.cjs', transport: 'stdio', args: [] },
  'runbook-http': {
    script: 'runbook-server.cjs',
    transport: 'http',
    args: ['--http', '--port', '0', '--access-token-ttl', String(ACCESS_TOKEN_TTL_SECONDS)],
  },
  'change-http': {
    script: 'change-server.mjs',
    transport: 'http',
    sdk: 'v2',
    args: ['--http', '--port', '0'],
  },
});

/** The model name on the agent's LLM spans. */
export const DEMO_MODEL = 'demo-model';

/** Scope the runbook server requires on `/mcp`, and one it issues that does not suffice. */
export const RUNBOOK_SCOPE = 'runbooks';
export const STATUS_ONLY_SCOPE = 'status:read';

const scaleStaging = (maxSize) => [
  { action: 'update', address: 'aws_autoscaling_group.web', attribute: 'max_size', value: maxSize },
];
const replaceDatabase = [{ action: 'delete', address: 'aws_db_instance.inventory' }];
/** The truth of a task whose calls all succeed. */
const cleanRun = (toolCalls) => ({
  toolCalls,
  failedCalls: 0,
  retries: 0,
  outcome: 'success',
  authFailures: [],
});

const networkChanges = [
  { action: 'update', address: 'aws_security_group.web', attribute: 'ingress', value: '10.0.0.0/16:443' },
  { action: 'create', address: 'aws_route53_record.api', attribute: 'ttl', value: '300' },
];

/*
 * Step kinds:
 * - llm: one model call, a `chat demo-model` span with token usage.
 * - call: one `tools/call`; `expect` is `ok`, `tool_error` (result with isError) or `protocol_error`
 *   (JSON-RPC error with `code`); `save` keeps the structured result for later `{ $from: name, field }`.
 * - retry: the same call (same arguments) until it succeeds or `maxAttempts` is reached; `expect` is
 *   `recovered` (with `attempts`) or `exhausted`.
 * - readResource, getPrompt: other MCP requests, not tool calls.
 * - connect: opens the task's session to an HTTP server with `credentials` (`oauth` with a scope,
 *   or a static `bearer`); `expect` is `connected`, `unauthorized` (401) or `forbidden` (403).
 * - expireAccessToken: waits until the task's access token is past its expiry, so the next call is
 *   answered 401 and the client refreshes through the OAuth flow.
 * - approval: the agent's own approval step for a tool call, wrapped in mcpscope's `checkpoint()`:
 *   the reviewer answers `approve`, `reject`, or never (`expire`, after `expiresInMs`).
 * - sleep: waits `ms` (an apply the agent gave up on runs to its end meanwhile).
 * A call may carry `operator` (`accept`, `decline`): the answer to the elicitation the server sends
 * during the call; `timeoutMs` with `dropConnection: true` gives up on the call after that long and
 * drops the connection it was sent on.
 * A step with `endsTask: true` is where the agent gives up: the task's root span ends in error.
 *
 * `checkpoints` says what the collector must report about human checkpoints, in the verdict terms of
 * the checkpoint telemetry contract (docs/checkpoints.md): each checkpoint's kind, tool and outcome
 * (`pending` when never decided), each write (a call of a tool whose `mcpscope.tool.read_only` is
 * false) with its verdict, and the orphaned writes.
 */
export const TASKS = Object.freeze([
  {
    id: 'network-plan-apply',
    description: 'Read prod-network state, plan a change, get it approved, apply it.',
    steps: [
      { llm: { inputTokens: 1850, outputTokens: 210 } },
      { call: { server: 'infra-stdio', tool: 'list_workspaces', arguments: {} }, expect: 'ok' },
      {
        call: { server: 'infra-stdio', tool: 'read_state', arguments: { workspace: 'prod-network' } },
        expect: 'ok',
      },
      { readResource: { server: 'infra-stdio', uri: 'state://prod-network' } },
      { getPrompt: { server: 'infra-stdio', name: 'review_plan', arguments: { workspace: 'prod-network' } } },
      { llm: { inputTokens: 2400, outputTokens: 320 } },
      {
        call: {
          server: 'infra-stdio',
          tool: 'plan_changes',
          arguments: { workspace: 'prod-network', changes: networkChanges },
        },
        expect: 'ok',
        save: 'plan',
      },
      {
        call: {
          server: 'infra-stdio',
          tool: 'approve_plan',
          arguments: { planId: { $from: 'plan', field: 'planId' }, approver: 'sre-oncall' },
        },
        expect: 'ok',
      },
      {
        call: {
          server: 'infra-stdio',
          tool: 'apply_plan',
          arguments: { planId: { $from: 'plan', field: 'planId' } },
        },
        expect: 'ok',
      },
      { llm: { inputTokens: 900, outputTokens: 60 } },
    ],
    truth: {
      toolCalls: 5,
      failedCalls: 0,
      retries: 0,
      outcome: 'success',
      inputTokens: 5150,
      outputTokens: 590,
      authFailures: [],
    },
    // plan_changes proposes the apply, approve_plan decides it, apply_plan executes it (server-side API).
    checkpoints: {
      checkpoints: [{ kind: 'app', tool: 'apply_plan', outcome: 'approved' }],
      writes: [{ tool: 'apply_plan', verdict: 'approved' }],
      orphanedWrites: [],
    },
  },
  {
    id: 'apply-unapproved-plan',
    description: 'Plan a staging change and try to apply it without approval: a tool error.',
    steps: [
      { llm: { inputTokens: 1200, outputTokens: 150 } },
      {
        call: {
          server: 'infra-http',
          tool: 'plan_changes',
          arguments: {
            workspace: 'staging-web',
            changes: [
              { action: 'update', address: 'aws_autoscaling_group.web', attribute: 'max_size', value: '6' },
            ],
          },
        },
        expect: 'ok',
        save: 'plan',
      },
      {
        call: {
          server: 'infra-http',
          tool: 'apply_plan',
          arguments: { planId: { $from: 'plan', field: 'planId' } },
        },
        expect: 'tool_error',
      },
      { llm: { inputTokens: 700, outputTokens: 90 } },
    ],
    truth: {
      toolCalls: 2,
      failedCalls: 1,
      retries: 0,
      outcome: 'failed',
      inputTokens: 1900,
      outputTokens: 240,
      authFailures: [],
    },
    // The server refuses the apply (a tool error), but the request reached it: a write without approval.
    checkpoints: {
      checkpoints: [{ kind: 'app', tool: 'apply_plan', outcome: 'pending' }],
      writes: [{ tool: 'apply_plan', verdict: 'unapproved' }],
      orphanedWrites: [],
    },
  },
  {
    id: 'page-unknown-service',
    description:
      'Page on-call for a misspelt service (a JSON-RPC error), then search and page the right one.',
    steps: [
      { llm: { inputTokens: 640, outputTokens: 40 } },
      {
        call: {
          server: 'runbook-stdio',
          tool: 'page_oncall',
          arguments: { service: 'inventroy-db', severity: 'high', summary: 'Replica lag above 5 minutes' },
        },
        expect: 'protocol_error',
        code: -32602,
      },
      {
        call: { server: 'runbook-stdio', tool: 'search_runbooks', arguments: { query: 'replica lag' } },
        expect: 'ok',
      },
      {
        call: {
          server: 'runbook-stdio',
          tool: 'page_oncall',
          arguments: { service: 'inventory-db', severity: 'high', summary: 'Replica lag above 5 minutes' },
        },
        expect: 'ok',
      },
      { llm: { inputTokens: 1100, outputTokens: 120 } },
    ],
    // The misspelt page is never repeated with the same arguments, so by definition the task failed.
    truth: {
      toolCalls: 3,
      failedCalls: 1,
      retries: 0,
      outcome: 'failed',
      inputTokens: 1740,
      outputTokens: 160,
      authFailures: [],
    },
  },
  {
    id: 'refresh-state-recovered',
    description: 'Refresh staging state while the lock is held twice: retried until it succeeds.',
    steps: [
      { llm: { inputTokens: 800, outputTokens: 70 } },
      {
        retry: {
          server: 'infra-http',
          tool: 'flaky_refresh',
          arguments: { workspace: 'staging-web', failTimes: 2 },
          maxAttempts: 4,
        },
        expect: 'recovered',
        attempts: 3,
      },
      { llm: { inputTokens: 450, outputTokens: 35 } },
    ],
    truth: {
      toolCalls: 3,
      failedCalls: 2,
      retries: 2,
      outcome: 'recovered',
      inputTokens: 1250,
      outputTokens: 105,
      authFailures: [],
    },
  },
  {
    id: 'refresh-state-exhausted',
    description:
      'Refresh prod-network state while the lock stays held: three attempts, then the agent gives up.',
    steps: [
      { llm: { inputTokens: 500, outputTokens: 30 } },
      {
        retry: {
          server: 'infra-stdio',
          tool: 'flaky_refresh',
          arguments: { workspace: 'prod-network', failTimes: 5 },
          maxAttempts: 3,
        },
        expect: 'exhausted',
        attempts: 3,
        endsTask: true,
      },
    ],
    truth: {
      toolCalls: 3,
      failedCalls: 3,
      retries: 2,
      outcome: 'failed',
      inputTokens: 500,
      outputTokens: 30,
      authFailures: [],
    },
  },
  {
    id: 'page-oncall-token-refresh',
    description:
      'Find the failover runbook, let the access token expire, page on-call after an OAuth refresh.',
    steps: [
      { connect: { server: 'runbook-http', credentials: { oauth: RUNBOOK_SCOPE } }, expect: 'connected' },
      { llm: { inputTokens: 980, outputTokens: 110 } },
      {
        call: { server: 'runbook-http', tool: 'search_runbooks', arguments: { query: 'database failover' } },
        expect: 'ok',
      },
      { expireAccessToken: { server: 'runbook-http' } },
      {
        call: {
          server: 'runbook-http',
          tool: 'page_oncall',
          arguments: {
            service: 'inventory-db',
            severity: 'high',
            summary: 'Primary unreachable, failover started',
          },
        },
        expect: 'ok',
      },
      { llm: { inputTokens: 600, outputTokens: 45 } },
    ],
    truth: {
      toolCalls: 2,
      failedCalls: 0,
      retries: 0,
      outcome: 'success',
      inputTokens: 1580,
      outputTokens: 155,
      authFailures: [{ reason: 'expired_token', httpStatus: 401 }],
      tokenRefreshes: 1,
    },
  },
  {
    id: 'ticket-forged-token',
    description: 'Open a ticket with a forged access token: rejected with 401.',
    steps: [
      { llm: { inputTokens: 420, outputTokens: 25 } },
      {
        connect: { server: 'runbook-http', credentials: { bearer: SECRETS.forgedAccessToken } },
        expect: 'unauthorized',
        endsTask: true,
      },
    ],
    truth: {
      toolCalls: 0,
      failedCalls: 0,
      retries: 0,
      outcome: 'failed',
      inputTokens: 420,
      outputTokens: 25,
      authFailures: [{ reason: 'invalid_token', httpStatus: 401 }],
    },
  },
  {
    id: 'page-insufficient-scope',
    description: 'Page on-call with a token granted only status:read: refused with 403.',
    steps: [
      { llm: { inputTokens: 380, outputTokens: 20 } },
      {
        connect: { server: 'runbook-http', credentials: { oauth: STATUS_ONLY_SCOPE, sendAs: 'bearer' } },
        expect: 'forbidden',
        endsTask: true,
      },
    ],
    truth: {
      toolCalls: 0,
      failedCalls: 0,
      retries: 0,
      outcome: 'failed',
      inputTokens: 380,
      outputTokens: 20,
      authFailures: [{ reason: 'insufficient_scope', httpStatus: 403 }],
    },
  },
  {
    id: 'rotate-credentials-incident',
    description: 'Plan a credential rotation and open an incident ticket, with secrets in the arguments.',
    steps: [
      { llm: { inputTokens: 1320, outputTokens: 240 } },
      {
        call: {
          server: 'infra-stdio',
          tool: 'plan_changes',
          arguments: {
            workspace: 'prod-data',
            changes: [
              {
                action: 'update',
                address: 'aws_db_instance.inventory',
                attribute: 'password',
                value: 'rotated',
              },
            ],
            variables: {
              aws_secret_access_key: SECRETS.awsSecretAccessKey,
              db_password: SECRETS.password,
              database_url: SECRETS.databaseUrl,
            },
          },
        },
        expect: 'ok',
      },
      {
        call: {
          server: 'runbook-stdio',
          tool: 'search_runbooks',
          arguments: { query: 'credential rotation' },
        },
        expect: 'ok',
      },
      {
        call: {
          server: 'runbook-stdio',
          tool: 'open_ticket',
          arguments: {
            title: 'Rotate leaked CI credentials',
            severity: 'high',
            description: `CI log showed token ${SECRETS.githubToken} and session ${SECRETS.jwt}; rotate both.`,
            reporter: { name: 'deploy-bot', password: SECRETS.password },
          },
        },
        expect: 'ok',
      },
      { llm: { inputTokens: 760, outputTokens: 90 } },
    ],
    truth: {
      toolCalls: 3,
      failedCalls: 0,
      retries: 0,
      outcome: 'success',
      inputTokens: 2080,
      outputTokens: 330,
      authFailures: [],
    },
    checkpoints: {
      checkpoints: [{ kind: 'app', tool: 'apply_plan', outcome: 'pending' }],
      writes: [],
      orphanedWrites: [],
    },
  },
  {
    // SDK v2 over protocol 2026-07-28: the deploy asks for a human confirmation (an input_required
    // round) and is still one call, neither failed nor retried.
    id: 'deploy-in-change-window',
    description: 'Book a deploy into the next change window of a v2 server, after the operator confirms.',
    steps: [
      { llm: { inputTokens: 540, outputTokens: 70 } },
      {
        call: { server: 'change-http', tool: 'check_change_window', arguments: { service: 'payments-api' } },
        expect: 'ok',
        save: 'window',
      },
      {
        call: {
          server: 'change-http',
          tool: 'schedule_deploy',
          arguments: { service: 'payments-api', windowId: { $from: 'window', field: 'windowId' } },
        },
        expect: 'ok',
        inputRounds: 1,
      },
    ],
    truth: {
      toolCalls: 2,
      failedCalls: 0,
      retries: 0,
      outcome: 'success',
      inputTokens: 540,
      outputTokens: 70,
      authFailures: [],
    },
    // The operator's confirmation is a checkpoint; schedule_deploy declares no annotations: not a write.
    checkpoints: {
      checkpoints: [{ kind: 'input_required', tool: 'schedule_deploy', outcome: 'approved' }],
      writes: [],
      orphanedWrites: [],
    },
  },
  {
    id: 'tf-apply-approved',
    description:
      'Plan a staging change and apply it; the operator approves when the server asks (elicitation).',
    steps: [
      { llm: { inputTokens: 600, outputTokens: 80 } },
      {
        call: {
          server: 'infra-stdio',
          tool: 'plan',
          arguments: { workspace: 'staging-web', changes: scaleStaging('8') },
        },
        expect: 'ok',
        save: 'plan',
      },
      {
        call: {
          server: 'infra-stdio',
          tool: 'apply',
          arguments: { planId: { $from: 'plan', field: 'planId' } },
        },
        operator: 'accept',
        expect: 'ok',
      },
    ],
    truth: { ...cleanRun(2), inputTokens: 600, outputTokens: 80 },
    checkpoints: {
      checkpoints: [{ kind: 'elicitation', tool: 'apply', outcome: 'approved' }],
      writes: [{ tool: 'apply', verdict: 'approved' }],
      orphanedWrites: [],
    },
  },
  {
    id: 'tf-apply-stale',
    description:
      'Plan a network change; the state drifts before the operator approves; the stale plan is applied.',
    steps: [
      { llm: { inputTokens: 700, outputTokens: 90 } },
      {
        call: {
          server: 'infra-stdio',
          tool: 'plan',
          arguments: {
            workspace: 'prod-network',
            changes: [{ action: 'update', address: 'aws_lb.public', attribute: 'scheme', value: 'internal' }],
          },
        },
        expect: 'ok',
        save: 'plan',
      },
      {
        call: { server: 'infra-stdio', tool: 'inject_drift', arguments: { workspace: 'prod-network' } },
        expect: 'ok',
      },
      {
        call: {
          server: 'infra-stdio',
          tool: 'apply',
          arguments: { planId: { $from: 'plan', field: 'planId' } },
        },
        operator: 'accept',
        expect: 'ok',
      },
    ],
    truth: { ...cleanRun(3), inputTokens: 700, outputTokens: 90 },
    checkpoints: {
      checkpoints: [{ kind: 'elicitation', tool: 'apply', outcome: 'approved' }],
      writes: [{ tool: 'apply', verdict: 'stale' }],
      orphanedWrites: [],
    },
  },
  {
    id: 'tf-apply-rejected',
    description:
      "Plan deleting the staging load balancer; the reviewer rejects it in the agent's approval queue.",
    steps: [
      { llm: { inputTokens: 500, outputTokens: 60 } },
      {
        call: {
          server: 'infra-stdio',
          tool: 'plan',
          arguments: { workspace: 'staging-web', changes: [{ action: 'delete', address: 'aws_lb.staging' }] },
        },
        expect: 'ok',
        save: 'plan',
      },
      {
        approval: {
          tool: 'apply',
          arguments: { planId: { $from: 'plan', field: 'planId' }, autoApprove: true },
        },
        stateVersion: { $from: 'plan', field: 'stateVersion' },
        answer: 'reject',
        reviewer: 'sre-lead',
      },
    ],
    truth: { ...cleanRun(1), inputTokens: 500, outputTokens: 60 },
    checkpoints: {
      checkpoints: [{ kind: 'app', tool: 'apply', outcome: 'rejected' }],
      writes: [],
      orphanedWrites: [],
    },
  },
  {
    id: 'tf-apply-expired',
    description: 'Plan exposing the staging load balancer; nobody answers the approval before its deadline.',
    steps: [
      { llm: { inputTokens: 450, outputTokens: 55 } },
      {
        call: {
          server: 'infra-stdio',
          tool: 'plan',
          arguments: {
            workspace: 'staging-web',
            changes: [
              { action: 'update', address: 'aws_lb.staging', attribute: 'scheme', value: 'internet-facing' },
            ],
          },
        },
        expect: 'ok',
        save: 'plan',
      },
      {
        approval: {
          tool: 'apply',
          arguments: { planId: { $from: 'plan', field: 'planId' }, autoApprove: true },
        },
        stateVersion: { $from: 'plan', field: 'stateVersion' },
        answer: 'expire',
        expiresInMs: 200,
      },
    ],
    truth: { ...cleanRun(1), inputTokens: 450, outputTokens: 55 },
    checkpoints: {
      checkpoints: [{ kind: 'app', tool: 'apply', outcome: 'expired' }],
      writes: [],
      orphanedWrites: [],
    },
  },
  {
    id: 'tf-apply-modified',
    description: 'Get one plan approved, then apply another one under that approval.',
    steps: [
      { llm: { inputTokens: 820, outputTokens: 100 } },
      {
        call: {
          server: 'infra-stdio',
          tool: 'plan',
          arguments: { workspace: 'staging-web', changes: scaleStaging('5') },
        },
        expect: 'ok',
        save: 'reviewed',
      },
      {
        call: {
          server: 'infra-stdio',
          tool: 'plan',
          arguments: {
            workspace: 'staging-web',
            changes: [{ action: 'delete', address: 'aws_autoscaling_group.web' }],
          },
        },
        expect: 'ok',
        save: 'other',
      },
      {
        approval: {
          tool: 'apply',
          arguments: { planId: { $from: 'reviewed', field: 'planId' }, autoApprove: true },
        },
        stateVersion: { $from: 'reviewed', field: 'stateVersion' },
        answer: 'approve',
        reviewer: 'sre-lead',
      },
      {
        call: {
          server: 'infra-stdio',
          tool: 'apply',
          arguments: { planId: { $from: 'other', field: 'planId' }, autoApprove: true },
        },
        expect: 'ok',
      },
    ],
    truth: { ...cleanRun(3), inputTokens: 820, outputTokens: 100 },
    checkpoints: {
      checkpoints: [{ kind: 'app', tool: 'apply', outcome: 'approved' }],
      writes: [{ tool: 'apply', verdict: 'modified' }],
      orphanedWrites: [],
    },
  },
  {
    id: 'tf-apply-unapproved',
    description: 'Plan a DNS record and apply it with auto-approve, with no approval anywhere.',
    steps: [
      { llm: { inputTokens: 380, outputTokens: 40 } },
      {
        call: {
          server: 'infra-stdio',
          tool: 'plan',
          arguments: {
            workspace: 'staging-web',
            changes: [{ action: 'create', address: 'aws_route53_record.www', attribute: 'ttl', value: '60' }],
          },
        },
        expect: 'ok',
        save: 'plan',
      },
      {
        call: {
          server: 'infra-stdio',
          tool: 'apply',
          arguments: { planId: { $from: 'plan', field: 'planId' }, autoApprove: true },
        },
        expect: 'ok',
      },
    ],
    truth: { ...cleanRun(2), inputTokens: 380, outputTokens: 40 },
    checkpoints: {
      checkpoints: [],
      writes: [{ tool: 'apply', verdict: 'unapproved' }],
      orphanedWrites: [],
    },
  },
  {
    // The apply takes 1.5 s (replacing a database); the agent gives up after 0.3 s and drops the
    // connection. The server applies anyway and leaves the state lock held: the next plan fails.
    id: 'tf-apply-orphaned',
    description: 'Apply an approved database replacement, give up mid-apply: the state lock stays held.',
    steps: [
      { llm: { inputTokens: 900, outputTokens: 120 } },
      {
        call: {
          server: 'infra-http',
          tool: 'plan',
          arguments: { workspace: 'prod-data', changes: replaceDatabase },
        },
        expect: 'ok',
        save: 'plan',
      },
      {
        approval: {
          tool: 'apply',
          arguments: { planId: { $from: 'plan', field: 'planId' }, autoApprove: true },
        },
        stateVersion: { $from: 'plan', field: 'stateVersion' },
        answer: 'approve',
        reviewer: 'dba-oncall',
      },
      {
        call: {
          server: 'infra-http',
          tool: 'apply',
          arguments: { planId: { $from: 'plan', field: 'planId' }, autoApprove: true },
        },
        timeoutMs: 300,
        dropConnection: true,
        expect: 'protocol_error',
        code: -32001,
      },
      { sleep: { ms: 2500 } },
      {
        call: {
          server: 'infra-http',
          tool: 'plan',
          arguments: { workspace: 'prod-data', changes: replaceDatabase },
        },
        expect: 'tool_error',
      },
    ],
    truth: {
      toolCalls: 3,
      failedCalls: 2,
      retries: 0,
      outcome: 'failed',
      inputTokens: 900,
      outputTokens: 120,
      authFailures: [],
    },
    checkpoints: {
      checkpoints: [{ kind: 'app', tool: 'apply', outcome: 'approved' }],
      writes: [{ tool: 'apply', verdict: 'approved' }],
      orphanedWrites: [{ tool: 'apply', destructive: 'true' }],
    },
  },
]);

/** The task id as sent in baggage; a run label keeps repeated runs against one collector apart. */
export const taskIdFor = (task, runLabel) => (runLabel ? `${task.id}.${runLabel}` : task.id);

/** Totals over all tasks: what the agent's summary line reports. */
export const scenarioTotals = () => {
  const totals = {
    tasks: TASKS.length,
    toolCalls: 0,
    failedCalls: 0,
    retries: 0,
    inputTokens: 0,
    outputTokens: 0,
    authFailures: 0,
    outcomes: { success: 0, recovered: 0, failed: 0 },
  };
  for (const { truth } of TASKS) {
    totals.toolCalls += truth.toolCalls;
    totals.failedCalls += truth.failedCalls;
    totals.retries += truth.retries;
    totals.inputTokens += truth.inputTokens;
    totals.outputTokens += truth.outputTokens;
    totals.authFailures += truth.authFailures.length;
    totals.outcomes[truth.outcome] += 1;
  }
  return totals;
};

const NO_CHECKPOINTS = Object.freeze({ checkpoints: [], writes: [], orphanedWrites: [] });

/** What the collector must report about a task's human checkpoints (none unless the task says). */
export const checkpointTruth = (task) => task.checkpoints ?? NO_CHECKPOINTS;

/** Checkpoint totals over all tasks: outcomes (pending included), write verdicts, orphaned writes. */
export const checkpointTotals = () => {
  const totals = { outcomes: {}, verdicts: {}, orphanedWrites: 0 };
  for (const task of TASKS) {
    const truth = checkpointTruth(task);
    for (const { outcome } of truth.checkpoints)
      totals.outcomes[outcome] = (totals.outcomes[outcome] ?? 0) + 1;
    for (const { verdict } of truth.writes) totals.verdicts[verdict] = (totals.verdicts[verdict] ?? 0) + 1;
    totals.orphanedWrites += truth.orphanedWrites.length;
  }
  return totals;
};
