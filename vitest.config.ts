import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Unit tests run against sources; child-process and packaging tests use the built packages.
    alias: [
      { find: /^@mcpscope\/instrumentation$/, replacement: here('./instrumentation/src/index.ts') },
      {
        find: /^@mcpscope\/instrumentation\/register$/,
        replacement: here('./instrumentation/src/register.ts'),
      },
      {
        find: /^@mcpscope\/instrumentation\/conventions$/,
        replacement: here('./instrumentation/src/conventions.ts'),
      },
      {
        find: /^@mcpscope\/instrumentation\/redaction$/,
        replacement: here('./instrumentation/src/redaction/index.ts'),
      },
      { find: /^@mcpscope\/collector$/, replacement: here('./collector/src/index.ts') },
      { find: /^@mcpscope\/collector\/metrics$/, replacement: here('./collector/src/metrics/names.ts') },
    ],
  },
  test: {
    include: ['{instrumentation,collector,dashboards,alerts,examples,test}/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['test/src/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
