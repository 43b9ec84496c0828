// server.mjs: an MCP server on stdio. The first import turns mcpscope on.
import '@mcpscope/instrumentation/register';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'deploy-server', version: '1.0.0' });
const text = (value) => ({ content: [{ type: 'text', text: value }] });

server.registerTool('list_services', { inputSchema: {} }, async () => text('api, worker'));
server.registerTool(
  'restart_service',
  { inputSchema: { service: z.string(), password: z.string() } },
  async ({ service }) => text(`${service} restarted`),
);
server.registerTool('check_health', { inputSchema: { service: z.string() } }, async ({ service }) =>
  text(`${service} healthy`),
);

await server.connect(new StdioServerTransport());
