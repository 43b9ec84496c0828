#!/usr/bin/env node
// The `mcpscope` command. It sits outside dist/ so that npm links it at install time, before a build
// has produced dist/ (in the repository, `npm ci` runs before `npm run build`).
try {
  await import('../dist/cli.js');
} catch (error) {
  const missing =
    error instanceof Error &&
    'code' in error &&
    error.code === 'ERR_MODULE_NOT_FOUND' &&
    /[/\\]dist[/\\]cli\.js/.test(error.message);
  if (!missing) throw error;
  process.stderr.write(
    'mcpscope: the collector is not built yet; run `npm run build` in the repository first\n',
  );
  process.exitCode = 1;
}
