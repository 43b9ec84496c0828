import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleScript, startHttpServer, testEnv, type HttpServerProcess } from './test-support/processes.js';

const call = async (client: Client, name: string, args: Record<string, unknown> = {}) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

/** The operator's answers to the server's elicitations, in order. */
const operatorAnswers: Array<'accept' | 'decline'> = [];

const structured = (result: CallToolResult) => result.structuredContent as Record<string, unknown>;

describe('infra server over stdio', () => {
  let client: Client;
  let stderr = '';

  beforeAll(async () => {
    client = new Client(
      { name: 'infra-test', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler(ElicitRequestSchema, async () => {
      const action = operatorAnswers.shift() ?? 'cancel';
      return action === 'accept' ? { action, content: {} } : { action };
    });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [exampleScript('infra-server.mjs')],
      env: testEnv({ OTEL_SERVICE_NAME: 'infra-server-test' }) as Record<string, string>,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await client.connect(transport);
  });
  afterAll(() => client.close());

  it('offers the read-only and state-changing tools, the state resource and the review prompt', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'apply',
      'apply_plan',
      'approve_plan',
      'flaky_refresh',
      'inject_drift',
      'list_workspaces',
      'plan',
      'plan_changes',
      'read_state',
    ]);
    const annotations = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations]));
    expect(annotations.plan).toEqual({ readOnlyHint: true });
    expect(annotations.apply).toEqual({ destructiveHint: true });
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toContain('state://prod-network');
    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toEqual(['review_plan']);
  });

  it('lists workspaces and reads their state, as a tool and as a resource', async () => {
    const listed = structured(await call(client, 'list_workspaces'));
    expect(listed.workspaces).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'prod-network', resources: 3 })]),
    );
    const state = structured(await call(client, 'read_state', { workspace: 'staging-web' }));
    expect(state.resources).toHaveLength(2);
    const resource = await client.readResource({ uri: 'state://prod-data' });
    const [content] = resource.contents;
    expect(content && 'text' in content ? JSON.parse(content.text) : undefined).toMatchObject({
      serial: 233,
    });
    const prompt = await client.getPrompt({ name: 'review_plan', arguments: { workspace: 'prod-network' } });
    expect(JSON.stringify(prompt.messages)).toContain('aws_security_group.web');
  });

  it('answers an unknown workspace with a tool error, and an unknown state resource with invalid params', async () => {
    const result = await call(client, 'read_state', { workspace: 'nope' });
    expect(result.isError).toBe(true);
    const failure = await client.readResource({ uri: 'state://nope' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(McpError);
    expect((failure as McpError).code).toBe(ErrorCode.InvalidParams);
  });

  it('applies a plan only once it is approved', async () => {
    const plan = structured(
      await call(client, 'plan_changes', {
        workspace: 'prod-network',
        changes: [{ action: 'update', address: 'aws_lb.public', attribute: 'scheme', value: 'internal' }],
        variables: { db_password: 'never-echoed-value' },
      }),
    );
    expect(plan).toMatchObject({ workspace: 'prod-network', change: 1, add: 0, destroy: 0 });
    const planId = String(plan.planId);

    const unapproved = await call(client, 'apply_plan', { planId });
    expect(unapproved.isError).toBe(true);
    expect(JSON.stringify(unapproved.content)).toContain('not been approved');
    expect((await call(client, 'apply_plan', { planId: 'plan-unknown' })).isError).toBe(true);

    await call(client, 'approve_plan', { planId, approver: 'reviewer' });
    const applied = await call(client, 'apply_plan', { planId });
    expect(applied.isError).toBeFalsy();
    expect(structured(applied)).toMatchObject({ planId, applied: true });
    expect((await call(client, 'apply_plan', { planId })).isError).toBe(true);
  });

  it('fails flaky_refresh exactly failTimes times for the same arguments, then succeeds', async () => {
    const args = { workspace: 'prod-data', failTimes: 2 };
    const outcomes = [];
    for (let attempt = 0; attempt < 4; attempt += 1)
      outcomes.push((await call(client, 'flaky_refresh', args)).isError === true);
    expect(outcomes).toEqual([true, true, false, false]);
    // Other arguments keep their own count.
    expect((await call(client, 'flaky_refresh', { workspace: 'prod-data', failTimes: 1 })).isError).toBe(
      true,
    );
    expect(
      (await call(client, 'flaky_refresh', { workspace: 'prod-data', failTimes: 0 })).isError,
    ).toBeFalsy();
  });

  it('plans against a state version and applies only what the operator approves, when asked by elicitation', async () => {
    const plan = structured(
      await call(client, 'plan', {
        workspace: 'prod-data',
        changes: [
          { action: 'update', address: 'aws_s3_bucket.backups', attribute: 'versioning', value: 'suspended' },
        ],
      }),
    );
    expect(plan.stateVersion).toMatch(/^c52e6f90-prod-data:\d+$/);
    operatorAnswers.push('decline');
    const declined = await call(client, 'apply', { planId: String(plan.planId) });
    expect(declined.isError).toBe(true);
    expect(JSON.stringify(declined.content)).toContain('Apply cancelled');

    // Drift between plan and approval: the apply runs against the state as it is now.
    const drifted = structured(await call(client, 'inject_drift', { workspace: 'prod-data' }));
    expect(drifted.stateVersion).not.toBe(plan.stateVersion);
    operatorAnswers.push('accept');
    const applied = structured(await call(client, 'apply', { planId: String(plan.planId) }));
    expect(applied).toMatchObject({ applied: true });
    const [, serial] = String(drifted.stateVersion).split(':');
    expect(applied.stateVersion).toBe(`c52e6f90-prod-data:${Number(serial) + 1}`);
    expect((await call(client, 'apply', { planId: String(plan.planId), autoApprove: true })).isError).toBe(
      true,
    );
  });

  it('logs to stderr only, and never a tool argument', () => {
    expect(stderr).toContain('serving on stdio');
    expect(stderr).not.toContain('never-echoed-value');
  });
});

describe('infra server over Streamable HTTP', () => {
  let server: HttpServerProcess;

  beforeAll(async () => {
    server = await startHttpServer('infra-server.mjs');
  });
  afterAll(() => server.stop());

  it('prints its loopback URL on stderr and keeps plans across requests', async () => {
    expect(server.url.hostname).toBe('127.0.0.1');
    expect(Number(server.url.port)).toBeGreaterThan(0);

    const planner = new Client({ name: 'planner', version: '1.0.0' });
    await planner.connect(new StreamableHTTPClientTransport(server.url));
    const plan = structured(
      await call(planner, 'plan_changes', {
        workspace: 'staging-web',
        changes: [{ action: 'delete', address: 'aws_lb.staging' }],
      }),
    );
    await planner.close();

    const applier = new Client({ name: 'applier', version: '1.0.0' });
    await applier.connect(new StreamableHTTPClientTransport(server.url));
    expect((await call(applier, 'apply_plan', { planId: String(plan.planId) })).isError).toBe(true);
    await call(applier, 'approve_plan', { planId: String(plan.planId), approver: 'reviewer' });
    expect(structured(await call(applier, 'apply_plan', { planId: String(plan.planId) }))).toMatchObject({
      applied: true,
    });
    await applier.close();
  });

  it('fails flaky_refresh a scripted number of times across connections', async () => {
    const outcomes = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const client = new Client({ name: `retry-${attempt}`, version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(server.url));
      outcomes.push(
        (await call(client, 'flaky_refresh', { workspace: 'staging-web', failTimes: 2 })).isError === true,
      );
      await client.close();
    }
    expect(outcomes).toEqual([true, true, false]);
  });

  it('holds the state lock during an apply, and leaves it held when the caller drops the connection mid-apply', async () => {
    const planner = new Client({ name: 'planner', version: '1.0.0' });
    await planner.connect(new StreamableHTTPClientTransport(server.url));
    const changes = [{ action: 'delete', address: 'aws_db_instance.inventory' }];
    const plan = structured(await call(planner, 'plan', { workspace: 'prod-data', changes }));

    const applier = new Client({ name: 'applier', version: '1.0.0' });
    await applier.connect(new StreamableHTTPClientTransport(server.url));
    const gaveUp = await applier
      .callTool({ name: 'apply', arguments: { planId: String(plan.planId), autoApprove: true } }, undefined, {
        timeout: 300,
      })
      .catch((error: unknown) => error);
    expect((gaveUp as McpError).code).toBe(ErrorCode.RequestTimeout);
    // While the apply runs, the lock is held.
    const during = await call(planner, 'plan', { workspace: 'prod-data', changes });
    expect(JSON.stringify(during.content)).toContain('Error acquiring the state lock');
    await applier.close();

    // The apply (1.5 s) ends with nobody to answer: the lock stays held.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(server.stderr()).toContain('the state lock stays held');
    const after = await call(planner, 'plan', { workspace: 'prod-data', changes });
    expect(after.isError).toBe(true);
    expect(JSON.stringify(after.content)).toContain('Error acquiring the state lock');
    await planner.close();
  });
});
