// agent.mjs: starts server.mjs, makes three tool calls as one task, and exits.
import '@mcpscope/instrumentation/register';
import { fileURLToPath } from 'node:url';
import { withTask } from '@mcpscope/instrumentation';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [fileURLToPath(new URL('./server.mjs', import.meta.url))],
  // The SDK hands a stdio server only a few safe variables: pass the OpenTelemetry ones on.
  env: {
    ...getDefaultEnvironment(),
    OTEL_SERVICE_NAME: 'deploy-server',
    ...(process.env.OTEL_EXPORTER_OTLP_ENDPOINT && {
      OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
    }),
  },
});
const client = new Client({ name: 'deploy-agent', version: '1.0.0' });
await client.connect(transport);

// Name the task: every call inside withTask belongs to it, in this process and in the server.
// Without withTask (or a span of your own around the calls), one connection's calls are one task.
const taskId = `restart-api-${Date.now()}`;
await withTask(taskId, async () => {
  await client.callTool({ name: 'list_services', arguments: {} });
  await client.callTool({ name: 'restart_service', arguments: { service: 'api', password: 'hunter2' } });
  await client.callTool({ name: 'check_health', arguments: { service: 'api' } });
});
await client.close();
console.log(`task ${taskId}: 3 tool calls`);
