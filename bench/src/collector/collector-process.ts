/**
 * The collector under test in its own process, as users run it: `startCollector` from the built
 * `@mcpscope/collector`, default settings except those given as JSON in argv[2] (ports 0, the
 * database path). Prints `READY {"grpcPort":…,"httpPort":…}`; SIGTERM closes it cleanly.
 */
import { collectorConfig, startCollector, type CollectorConfig } from '@mcpscope/collector';

const overrides = JSON.parse(process.argv[2] ?? '{}') as Partial<CollectorConfig>;
const collector = await startCollector(
  collectorConfig({ host: '127.0.0.1', httpPort: 0, grpcPort: 0, ...overrides }),
);
process.stdout.write(
  `READY ${JSON.stringify({ grpcPort: collector.grpcPort, httpPort: collector.httpPort })}\n`,
);
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void collector.close().finally(() => process.exit(0));
});
