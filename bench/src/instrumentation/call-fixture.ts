/**
 * The one MCP server and client every instrumentation variant measures: two tools, one called with
 * small arguments and one with realistic nested arguments (~2 KB), over `InMemoryTransport`.
 *
 * The client comes from a private copy of the SDK (see `client-sdk-copy.ts`) so that patching the
 * server's `Protocol` never reaches the client's, as when they run in two processes.
 */
import { pathToFileURL } from 'node:url';
import { z } from 'zod';

import type * as ClientSdk from '@modelcontextprotocol/sdk/client/index.js';
import type * as InMemorySdk from '@modelcontextprotocol/sdk/inMemory.js';
import type * as LowLevelServerSdk from '@modelcontextprotocol/sdk/server/index.js';
import type * as ServerSdk from '@modelcontextprotocol/sdk/server/mcp.js';

type ServerModule = typeof ServerSdk;
type LowLevelServerModule = typeof LowLevelServerSdk;
type ClientModule = typeof ClientSdk;
type InMemoryModule = typeof InMemorySdk;
export type McpServer = InstanceType<ServerModule['McpServer']>;
export type Client = InstanceType<ClientModule['Client']>;

export const SMALL_TOOL = 'list_instances';
export const NESTED_TOOL = 'plan_changes';

/** A credential inside the nested arguments: an instrumentation that records arguments raw leaks it. */
export const NESTED_SECRET = 's3cr3t-Passw0rd';

export const smallArguments = { region: 'eu-west-1', limit: 25 };

/** A change plan of the kind an infrastructure agent sends: nested objects, arrays, one credential. */
export const nestedArguments = {
  workspace: 'payments-prod',
  requestedBy: 'agent:release-bot',
  dryRun: true,
  changes: Array.from({ length: 6 }, (_, index) => ({
    resource: `aws_instance.api_${index}`,
    action: index % 3 === 0 ? 'replace' : 'update',
    attributes: {
      instance_type: index % 2 === 0 ? 'm7g.large' : 'm7g.xlarge',
      ami: `ami-0${(123456789 + index * 7919).toString(16)}`,
      subnet_id: `subnet-0a1b2c3d4e5f6${index}`,
      tags: { team: 'payments', service: 'api', shard: String(index), cost_center: 'cc-4411' },
      security_groups: ['sg-0aa11bb22cc33dd44', 'sg-0ee55ff66aa77bb88'],
    },
  })),
  database: {
    engine: 'postgres',
    url: `postgres://deployer:${NESTED_SECRET}@db.internal.example:5432/payments`,
    parameters: { max_connections: 400, shared_buffers: '4GB', work_mem: '64MB' },
  },
  notify: ['#payments-oncall', 'release-notes@example.com'],
};

const toolResult = { content: [{ type: 'text' as const, text: 'ok' }] };

export interface SdkModules {
  server: ServerModule;
  lowLevelServer: LowLevelServerModule;
  inMemory: InMemoryModule;
  client: ClientModule;
}

/** The server's SDK from the workspace, the client's from its private copy. */
export const loadSdk = async (clientSdkRoot: string): Promise<SdkModules> => {
  const server = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const lowLevelServer = await import('@modelcontextprotocol/sdk/server/index.js');
  const inMemory = await import('@modelcontextprotocol/sdk/inMemory.js');
  const clientUrl = pathToFileURL(`${clientSdkRoot}/dist/esm/client/index.js`).href;
  const client = (await import(clientUrl)) as ClientModule;
  return { server, lowLevelServer, inMemory, client };
};

export const createServer = (sdk: SdkModules): McpServer => {
  const server = new sdk.server.McpServer({ name: 'bench-infra', version: '1.0.0' });
  server.registerTool(
    SMALL_TOOL,
    { description: 'List instances in a region', inputSchema: { region: z.string(), limit: z.number() } },
    () => toolResult,
  );
  server.registerTool(
    NESTED_TOOL,
    {
      description: 'Plan infrastructure changes',
      inputSchema: {
        workspace: z.string(),
        requestedBy: z.string(),
        dryRun: z.boolean(),
        changes: z.array(
          z.object({ resource: z.string(), action: z.string(), attributes: z.record(z.unknown()) }),
        ),
        database: z.record(z.unknown()),
        notify: z.array(z.string()),
      },
    },
    () => toolResult,
  );
  return server;
};

/** Connects a fresh client to the server; `prepareClient` runs before the client connects. */
export const connect = async (
  sdk: SdkModules,
  server: McpServer,
  prepareClient: (client: Client) => void = () => {},
): Promise<Client> => {
  const [clientTransport, serverTransport] = sdk.inMemory.InMemoryTransport.createLinkedPair();
  const client = new sdk.client.Client({ name: 'bench-agent', version: '1.0.0' });
  prepareClient(client);
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return client;
};

export type ArgumentsKind = 'small' | 'nested';

export const callOnce = (client: Client, kind: ArgumentsKind): Promise<unknown> =>
  kind === 'small'
    ? client.callTool({ name: SMALL_TOOL, arguments: smallArguments })
    : client.callTool({ name: NESTED_TOOL, arguments: nestedArguments });
