import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{instrumentation,collector,dashboards,alerts,examples,test}/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
