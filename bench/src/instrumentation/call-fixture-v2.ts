/**
 * The same server, tools and calls as `call-fixture.ts`, on MCP SDK v2 (`@modelcontextprotocol/server`
 * and `/client`, zod 4 schemas). The client and server packages each bundle their own protocol core,
 * so no private copy is needed to keep the two sides apart.
 */
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod4';
import {
  NESTED_TOOL,
  SMALL_TOOL,
  nestedArguments,
  smallArguments,
  type ArgumentsKind,
} from './call-fixture.js';

export { Client as ClientV2, McpServer as McpServerV2 };

const toolResult = { content: [{ type: 'text' as const, text: 'ok' }] };

export const createServerV2 = (): McpServer => {
  const server = new McpServer({ name: 'bench-infra', version: '1.0.0' });
  server.registerTool(
    SMALL_TOOL,
    {
      description: 'List instances in a region',
      inputSchema: z.object({ region: z.string(), limit: z.number() }),
    },
    () => toolResult,
  );
  server.registerTool(
    NESTED_TOOL,
    {
      description: 'Plan infrastructure changes',
      inputSchema: z.object({
        workspace: z.string(),
        requestedBy: z.string(),
        dryRun: z.boolean(),
        changes: z.array(
          z.object({
            resource: z.string(),
            action: z.string(),
            attributes: z.record(z.string(), z.unknown()),
          }),
        ),
        database: z.record(z.string(), z.unknown()),
        notify: z.array(z.string()),
      }),
    },
    () => toolResult,
  );
  return server;
};

/** Connects a fresh client to the server; `prepareClient` runs before the client connects. */
export const connectV2 = async (
  server: McpServer,
  prepareClient: (client: Client) => void = () => {},
): Promise<Client> => {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'bench-agent', version: '1.0.0' });
  prepareClient(client);
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return client;
};

export const callOnceV2 = (client: Client, kind: ArgumentsKind): Promise<unknown> =>
  kind === 'small'
    ? client.callTool({ name: SMALL_TOOL, arguments: smallArguments })
    : client.callTool({ name: NESTED_TOOL, arguments: nestedArguments });
