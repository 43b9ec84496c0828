import '@mcpscope/instrumentation/register';

// The demo agent: runs the scripted tasks of scenario.mjs across the example servers, each task
// under its own id and root span, with LLM steps that record token usage (no model, no network).
// Prints one JSON summary line on stdout and exits 0 when every step went as the script says.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  checkpoint,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  withTask,
} from '@mcpscope/instrumentation';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  Client as ClientV2,
  ProtocolError,
  StreamableHTTPClientTransport as StreamableHTTPClientTransportV2,
} from '@modelcontextprotocol/client';
import { authorize, createAuthObservingFetch, InMemoryOAuthClient } from './oauth-client.mjs';
import { DEMO_MODEL, SERVERS, SERVICE_NAMES, TASKS, taskIdFor } from './scenario.mjs';

const AGENT_NAME = 'demo-agent';
// Generous: a loaded machine can take tens of seconds to load the SDKs in several processes at once.
const LISTEN_TIMEOUT_MS = 60_000;
const tracer = trace.getTracer(AGENT_NAME);

const log = (level, message, fields = {}) =>
  process.stderr.write(`${JSON.stringify({ level, service: AGENT_NAME, message, ...fields })}\n`);

const scriptPath = (script) => fileURLToPath(new URL(script, import.meta.url));
const serverEnv = (name) => ({ ...process.env, OTEL_SERVICE_NAME: SERVICE_NAMES[name] });

// Every server process the agent started, so none outlives it, however the agent ends.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGTERM');
});

/** Starts an HTTP server as a child process and resolves with the URL it prints on stderr. */
const startHttpServer = (name) =>
  new Promise((resolve, reject) => {
    const { script, args } = SERVERS[name];
    const child = spawn(process.execPath, [scriptPath(script), ...args], {
      env: serverEnv(name),
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`${name} did not print its URL in time`));
    }, LISTEN_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening`));
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      process.stderr.write(`${line}\n`);
      try {
        const { listening } = JSON.parse(line);
        if (typeof listening === 'string') {
          clearTimeout(timer);
          resolve({ child, url: new URL(listening) });
        }
      } catch {
        // Not a JSON line: passed through above.
      }
    });
  });

const stopChild = async (child) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
};

/**
 * The operator's answers to the elicitations a server sends during a call (`operator` of a step), in
 * order; an elicitation nobody scripted is cancelled.
 */
const operatorAnswers = [];

const connectStdio = async (name, { script, args }) => {
  const client = new Client(
    { name: AGENT_NAME, version: '0.1.0' },
    { capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler(ElicitRequestSchema, async () => {
    const action = operatorAnswers.shift() ?? 'cancel';
    return action === 'accept' ? { action, content: {} } : { action };
  });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [scriptPath(script), ...args],
      env: serverEnv(name),
    }),
  );
  await client.listTools();
  return client;
};

/**
 * Answers to a v2 server's `input_required` rounds: the operator confirms every deploy. Counted per
 * call, so a step can check how many rounds its call took.
 */
const confirmations = { count: 0 };

/** A v2 client in the 2026-07-28 era (negotiated), which answers elicitations as the operator. */
const connectV2 = async (url) => {
  const client = new ClientV2(
    { name: AGENT_NAME, version: '0.1.0' },
    { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler('elicitation/create', async () => {
    confirmations.count += 1;
    return { action: 'accept', content: { confirm: true } };
  });
  await client.connect(new StreamableHTTPClientTransportV2(url));
  await client.listTools();
  return client;
};

/**
 * The processes and connections of a run. HTTP servers start side by side before the first task;
 * MCP sessions open inside the first task that needs them, as an agent connects when it needs a
 * server, so every request of the run belongs to a task.
 */
const startServers = async () => {
  const httpNames = Object.keys(SERVERS).filter((name) => SERVERS[name].transport === 'http');
  const settled = await Promise.allSettled(httpNames.map((name) => startHttpServer(name)));
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) {
    // Leave no server behind when one of them could not start.
    await Promise.allSettled(
      settled.filter((result) => result.status === 'fulfilled').map(({ value }) => stopChild(value.child)),
    );
    throw failure.reason;
  }
  const httpServers = new Map(httpNames.map((name, index) => [name, settled[index].value]));
  const shared = new Map();
  /** The run's session to a server, opened on first use. */
  const sharedClient = (name) => {
    if (!shared.has(name)) {
      shared.set(
        name,
        SERVERS[name].transport === 'stdio' ? connectStdio(name, SERVERS[name]) : connectShared(name),
      );
    }
    return shared.get(name);
  };
  const connectShared = async (name) => {
    if (SERVERS[name].sdk === 'v2') return connectV2(httpServers.get(name).url);
    const client = new Client({ name: AGENT_NAME, version: '0.1.0' });
    await client.connect(new StreamableHTTPClientTransport(httpServers.get(name).url));
    await client.listTools();
    return client;
  };
  return { httpServers, shared, sharedClient };
};

const stopServers = async ({ shared, httpServers }) => {
  const clients = await Promise.allSettled(shared.values());
  await Promise.allSettled(
    clients.filter((result) => result.status === 'fulfilled').map(({ value }) => value.close()),
  );
  await Promise.allSettled([...httpServers.values()].map(({ child }) => stopChild(child)));
};

/** Replaces `{ $from, field }` placeholders with values saved from earlier results of the task. */
const resolveArguments = (value, saved) => {
  if (Array.isArray(value)) return value.map((item) => resolveArguments(item, saved));
  if (value === null || typeof value !== 'object') return value;
  if ('$from' in value) return saved.get(value.$from)?.[value.field];
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveArguments(item, saved)]));
};

const canonicalJson = (value) => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
};

/** Retries and outcome of the calls a task made, by mcpscope's definitions (DESIGN.md). */
const judgeCalls = (calls, rootFailed) => {
  const lastFailed = new Map();
  let retries = 0;
  for (const call of calls) {
    const key = `${call.tool}\u0000${canonicalJson(call.arguments)}`;
    if (lastFailed.get(key) === true) retries += 1;
    lastFailed.set(key, call.failed);
  }
  const failedCalls = calls.filter((call) => call.failed).length;
  const endsFailed = [...lastFailed.values()].some(Boolean);
  const outcome = rootFailed || endsFailed ? 'failed' : failedCalls > 0 ? 'recovered' : 'success';
  return { toolCalls: calls.length, failedCalls, retries, outcome };
};

const callTool = async (client, tool, args, options) => {
  try {
    const result = await client.callTool({ name: tool, arguments: args }, undefined, options);
    return result.isError ? { status: 'tool_error' } : { status: 'ok', structured: result.structuredContent };
  } catch (error) {
    if (error instanceof McpError || error instanceof ProtocolError)
      return { status: 'protocol_error', code: error.code };
    return { status: 'transport_error', error: error instanceof Error ? error.name : 'unknown' };
  }
};

const chat = (usage) =>
  tracer.startActiveSpan(
    `chat ${DEMO_MODEL}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { [ATTR_GEN_AI_OPERATION_NAME]: 'chat', [ATTR_GEN_AI_REQUEST_MODEL]: DEMO_MODEL },
    },
    (span) => {
      span.setAttributes({
        [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: usage.inputTokens,
        [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: usage.outputTokens,
      });
      span.end();
    },
  );

/** Opens a task's own session to an HTTP server with the credentials the step names. */
const connectHttp = async (url, credentials, authFetch) => {
  const client = new Client({ name: AGENT_NAME, version: '0.1.0' });
  let oauth;
  let options = { fetch: authFetch };
  if (credentials.oauth !== undefined) {
    oauth = new InMemoryOAuthClient({ scope: credentials.oauth, fetchFn: authFetch });
    await authorize(oauth, url);
    // Presented as a plain bearer header, a token gets no step-up authorization after a 403.
    options =
      credentials.sendAs === 'bearer'
        ? {
            fetch: authFetch,
            requestInit: { headers: { Authorization: `Bearer ${oauth.tokens().access_token}` } },
          }
        : { fetch: authFetch, authProvider: oauth };
  } else if (credentials.bearer !== undefined) {
    options = {
      fetch: authFetch,
      requestInit: { headers: { Authorization: `Bearer ${credentials.bearer}` } },
    };
  }
  try {
    await client.connect(new StreamableHTTPClientTransport(url, options));
    return { status: 'connected', client, oauth };
  } catch (error) {
    await client.close().catch(() => {});
    if (error instanceof StreamableHTTPError && error.code === 401) return { status: 'unauthorized' };
    if (error instanceof StreamableHTTPError && error.code === 403) return { status: 'forbidden' };
    return { status: 'transport_error', error: error instanceof Error ? error.name : 'unknown' };
  }
};

const STEP_MODIFIERS = [
  'expect',
  'save',
  'code',
  'attempts',
  'endsTask',
  'operator',
  'timeoutMs',
  'dropConnection',
  'inputRounds',
  'stateVersion',
  'answer',
  'reviewer',
  'expiresInMs',
];
const describeStep = (step) => Object.keys(step).find((key) => !STEP_MODIFIERS.includes(key));

/**
 * The agent's own approval step (a reviewer in a queue), wrapped in one line of mcpscope: the
 * reviewer approves, rejects, or never answers before the deadline.
 */
const askReviewer = (step, saved) => {
  const { tool } = step.approval;
  const args = resolveArguments(step.approval.arguments, saved);
  const stateVersion = resolveArguments(step.stateVersion, saved);
  const expiresAt = step.expiresInMs === undefined ? undefined : Date.now() + step.expiresInMs;
  return checkpoint({ tool, arguments: args, stateVersion, expiresAt }, async () => {
    if (step.answer === 'expire') {
      await sleep(step.expiresInMs ?? 0);
      return 'expired';
    }
    return { approved: step.answer === 'approve', reviewer: step.reviewer };
  });
};

/** A call on its own connection to an HTTP server, given up after `timeoutMs`, the connection then dropped. */
const callAndDrop = async (url, tool, args, timeoutMs) => {
  const client = new Client({ name: AGENT_NAME, version: '0.1.0' });
  await client.connect(new StreamableHTTPClientTransport(url));
  await client.listTools();
  try {
    return await callTool(client, tool, args, { timeout: timeoutMs });
  } finally {
    await client.close();
  }
};

/** Runs one task inside its task context and root span; returns what the agent observed. */
const runTask = (task, taskId, servers) =>
  withTask(taskId, () =>
    tracer.startActiveSpan(
      `invoke_agent ${AGENT_NAME}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: { [ATTR_GEN_AI_OPERATION_NAME]: 'invoke_agent', 'gen_ai.agent.name': AGENT_NAME },
      },
      async (root) => {
        const calls = [];
        const mismatches = [];
        const authEvents = [];
        const usage = { inputTokens: 0, outputTokens: 0 };
        const saved = new Map();
        const sessions = new Map();
        const authFetch = createAuthObservingFetch((event) => authEvents.push(event));
        let gaveUp = false;
        const clientFor = async (name) => sessions.get(name)?.client ?? (await servers.sharedClient(name));
        const expectStatus = (stepIndex, expected, observed) => {
          if (expected !== observed) mismatches.push({ step: stepIndex, expected, observed });
        };

        try {
          for (const [stepIndex, step] of task.steps.entries()) {
            if (gaveUp) break;
            if (step.llm) {
              chat(step.llm);
              usage.inputTokens += step.llm.inputTokens;
              usage.outputTokens += step.llm.outputTokens;
            } else if (step.call) {
              const { server, tool } = step.call;
              const args = resolveArguments(step.call.arguments, saved);
              const roundsBefore = confirmations.count;
              if (step.operator) operatorAnswers.push(step.operator);
              const result = step.dropConnection
                ? await callAndDrop(servers.httpServers.get(server).url, tool, args, step.timeoutMs)
                : await callTool(
                    await clientFor(server),
                    tool,
                    args,
                    step.timeoutMs === undefined ? undefined : { timeout: step.timeoutMs },
                  );
              const rounds = confirmations.count - roundsBefore;
              if (rounds !== (step.inputRounds ?? 0))
                mismatches.push({
                  step: stepIndex,
                  expected: { inputRounds: step.inputRounds ?? 0 },
                  observed: rounds,
                });
              calls.push({ tool, arguments: args, failed: result.status !== 'ok' });
              expectStatus(stepIndex, step.expect, result.status);
              if (step.code !== undefined && result.code !== step.code) {
                mismatches.push({ step: stepIndex, expected: step.code, observed: result.code ?? null });
              }
              if (step.save && result.status === 'ok') saved.set(step.save, result.structured);
            } else if (step.retry) {
              const { server, tool, maxAttempts } = step.retry;
              const args = resolveArguments(step.retry.arguments, saved);
              let attempts = 0;
              let succeeded = false;
              while (!succeeded && attempts < maxAttempts) {
                attempts += 1;
                succeeded = (await callTool(await clientFor(server), tool, args)).status === 'ok';
                calls.push({ tool, arguments: args, failed: !succeeded });
              }
              expectStatus(stepIndex, step.expect, succeeded ? 'recovered' : 'exhausted');
              if (attempts !== step.attempts)
                mismatches.push({ step: stepIndex, expected: step.attempts, observed: attempts });
            } else if (step.readResource) {
              const { server, uri } = step.readResource;
              await (await clientFor(server)).readResource({ uri });
            } else if (step.getPrompt) {
              const { server, name, arguments: args } = step.getPrompt;
              await (await clientFor(server)).getPrompt({ name, arguments: args });
            } else if (step.connect) {
              const { server, credentials } = step.connect;
              const session = await connectHttp(servers.httpServers.get(server).url, credentials, authFetch);
              if (session.client) sessions.set(server, session);
              expectStatus(stepIndex, step.expect, session.status);
            } else if (step.approval) {
              const answer = await askReviewer(step, saved);
              const expected = { approve: true, reject: false, expire: 'expired' }[step.answer];
              const observed = typeof answer === 'object' ? answer.approved : answer;
              if (observed !== expected) mismatches.push({ step: stepIndex, expected, observed });
            } else if (step.sleep) {
              await sleep(step.sleep.ms);
            } else if (step.expireAccessToken) {
              const expiresAt = sessions.get(step.expireAccessToken.server)?.oauth?.accessTokenExpiresAt();
              if (expiresAt === undefined) throw new Error('No access token to let expire');
              await sleep(Math.max(0, expiresAt - Date.now()) + 250);
            } else {
              throw new Error(`Unknown step ${describeStep(step)}`);
            }
            if (step.endsTask) gaveUp = true;
          }
        } catch (error) {
          mismatches.push({ error: error instanceof Error ? error.message : String(error) });
        } finally {
          await Promise.allSettled([...sessions.values()].map(({ client }) => client.close()));
        }

        const rootFailed = gaveUp || mismatches.length > 0;
        if (rootFailed) {
          root.setStatus({
            code: SpanStatusCode.ERROR,
            message: gaveUp ? 'gave up' : 'unexpected step result',
          });
        }
        root.end();
        const observed = {
          ...judgeCalls(calls, rootFailed),
          ...usage,
          authFailures: authEvents
            .filter((event) => event.kind === 'challenge')
            .map(({ reason, httpStatus }) => ({ reason, httpStatus })),
          tokenRefreshes: authEvents.filter((event) => event.kind === 'refresh').length,
        };
        // The run vouches for the scenario's truth only when what the agent saw is exactly that truth.
        const truth = { tokenRefreshes: 0, ...task.truth };
        for (const [field, expected] of Object.entries(truth)) {
          if (JSON.stringify(observed[field]) !== JSON.stringify(expected)) {
            mismatches.push({ field, expected, observed: observed[field] });
          }
        }
        return { id: task.id, taskId, ...observed, mismatches };
      },
    ),
  );

const main = async () => {
  const { values } = parseArgs({ options: { 'run-label': { type: 'string' }, tasks: { type: 'string' } } });
  const runLabel = values['run-label'];
  // --tasks a,b runs only those tasks of the script, in script order.
  const only = values.tasks?.split(',').map((id) => id.trim());
  const unknown = only?.filter((id) => !TASKS.some((task) => task.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown task ids: ${unknown.join(', ')}`);
  const selected = only ? TASKS.filter((task) => only.includes(task.id)) : TASKS;
  const servers = await startServers();
  const tasks = [];
  try {
    for (const task of selected) {
      const observed = await runTask(task, taskIdFor(task, runLabel), servers);
      if (observed.mismatches.length > 0)
        log('error', 'task did not run as scripted', { task: task.id, mismatches: observed.mismatches });
      tasks.push(observed);
    }
  } finally {
    await stopServers(servers);
  }
  const ok = tasks.every((task) => task.mismatches.length === 0);
  process.stdout.write(`${JSON.stringify({ ok, runLabel: runLabel ?? null, tasks })}\n`);
  process.exitCode = ok ? 0 : 1;
};

// Interrupted: the exit handler stops the servers; the telemetry flush runs on its own signal hook.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log('error', 'interrupted', { signal });
    process.exitCode = 130;
    setTimeout(() => process.exit(), 2000).unref();
    for (const child of children) child.kill('SIGTERM');
  });
}

await main().catch((error) => {
  log('error', 'demo failed', { error: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
});
