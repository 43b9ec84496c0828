/**
 * The collector under test in its own process, as users run it: `startCollector` from the built
 * `@mcpscope/collector`, default settings except those given as JSON in argv[2] (ports 0, the
 * database path). Prints `READY {"grpcPort":…,"httpPort":…}`; SIGTERM closes it cleanly.
 *
 * With `BENCH_CPU_PROFILE=<file>`, SIGUSR2 starts the V8 CPU profiler and SIGTERM writes the
 * profile before closing, so the profile covers the load alone, not start-up.
 *
 * Plain JavaScript, run by `node` alone: a TypeScript loader in the process would add its own
 * memory and start-up to the collector's figures.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { collectorConfig, startCollector } from '@mcpscope/collector';

/** @type {Partial<import('@mcpscope/collector').CollectorConfig>} */
const overrides = JSON.parse(process.argv[2] ?? '{}');
const collector = await startCollector(
  collectorConfig({ host: '127.0.0.1', httpPort: 0, grpcPort: 0, ...overrides }),
);

const profilePath = process.env.BENCH_CPU_PROFILE;
/** @type {Session | undefined} */
let profiler;
if (profilePath) {
  process.on('SIGUSR2', () => {
    profiler = new Session();
    profiler.connect();
    void profiler.post('Profiler.enable').then(() => profiler?.post('Profiler.start'));
  });
}

process.stdout.write(
  `READY ${JSON.stringify({ grpcPort: collector.grpcPort, httpPort: collector.httpPort })}\n`,
);
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void (async function stopCollector() {
    if (profiler && profilePath) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(profilePath, JSON.stringify(profile));
    }
    await collector.close();
  })().finally(() => process.exit(0));
});
