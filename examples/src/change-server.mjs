import '@mcpscope/instrumentation/register';

// Change-management MCP server on the MCP SDK v2 (`@modelcontextprotocol/server`), ESM, high-level
// `McpServer` with JSON Schema tool inputs. Serves Streamable HTTP through `@modelcontextprotocol/node`
// on 127.0.0.1 for both protocol eras (`createMcpHandler`: one server per request, protocol 2026-07-28
// for modern clients, the initialize handshake for older ones) and prints `{"listening":"<url>"}` on
// stderr. `schedule_deploy` asks its caller to confirm through an `input_required` round before it
// books a window: the human checkpoint of a deploy, one logical call.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { localhostHostValidation, toNodeHandler } from '@modelcontextprotocol/node';
import {
  acceptedContent,
  createMcpHandler,
  fromJsonSchema,
  inputRequired,
  McpServer,
} from '@modelcontextprotocol/server';

const log = (level, message, fields = {}) =>
  process.stderr.write(`${JSON.stringify({ level, service: 'change-server', message, ...fields })}\n`);

const WINDOWS = Object.freeze({
  'payments-api': { windowId: 'cw-2026-12-08-0200', opensAt: '2026-12-08T02:00:00Z', frozen: false },
  'ledger-db': { windowId: 'cw-2026-12-09-0300', opensAt: '2026-12-09T03:00:00Z', frozen: true },
});

const serviceInput = fromJsonSchema({
  type: 'object',
  properties: { service: { type: 'string' } },
  required: ['service'],
});
const deployInput = fromJsonSchema({
  type: 'object',
  properties: { service: { type: 'string' }, windowId: { type: 'string' }, approver: { type: 'string' } },
  required: ['service', 'windowId'],
});
const confirmation = fromJsonSchema({
  type: 'object',
  properties: { confirm: { type: 'boolean' } },
  required: ['confirm'],
});

const text = (value) => ({ content: [{ type: 'text', text: value }] });

const buildServer = () => {
  const server = new McpServer({ name: 'change-server', version: '1.0.0' });
  server.registerTool(
    'check_change_window',
    { description: 'The next change window of a service', inputSchema: serviceInput },
    async ({ service }) => {
      const window = WINDOWS[service];
      if (!window) return { ...text(`no change window for ${service}`), isError: true };
      return { ...text(`${service}: next window ${window.opensAt}`), structuredContent: { ...window } };
    },
  );
  server.registerTool(
    'schedule_deploy',
    {
      description: 'Book a deploy into a change window, once the operator confirms',
      inputSchema: deployInput,
    },
    async ({ service, windowId }, ctx) => {
      const window = WINDOWS[service];
      if (!window || window.windowId !== windowId)
        return { ...text(`unknown window ${windowId}`), isError: true };
      if (window.frozen) return { ...text(`${service} is in a change freeze`), isError: true };
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', confirmation);
      if (answer?.confirm !== true) {
        return inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({
              message: `Deploy ${service} in window ${windowId}?`,
              requestedSchema: {
                type: 'object',
                properties: { confirm: { type: 'boolean' } },
                required: ['confirm'],
              },
            }),
          },
        });
      }
      return { ...text(`deploy of ${service} booked in ${windowId}`), structuredContent: { booked: true } };
    },
  );
  return server;
};

const { values } = parseArgs({
  options: { http: { type: 'boolean' }, port: { type: 'string', default: '0' } },
});
if (!values.http) {
  log('error', 'the change server serves Streamable HTTP only: pass --http');
  process.exit(2);
}
const validateHost = localhostHostValidation();
const handle = toNodeHandler(createMcpHandler(buildServer));
const http = createServer((req, res) => {
  if (validateHost(req, res)) void handle(req, res);
});
http.listen(Number(values.port), '127.0.0.1', () => {
  log('info', 'listening', { listening: `http://127.0.0.1:${http.address().port}/mcp` });
});
const stop = () => {
  http.close();
  http.closeAllConnections();
  // Leave time for the telemetry flush; never hang.
  setTimeout(() => process.exit(0), 5000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
