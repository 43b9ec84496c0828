import { cpSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { benchCache, repoRoot } from '../support/paths.js';

/**
 * A private copy of the MCP SDK for the benchmark's client. Instrumentations patch the SDK's shared
 * `Protocol` class; with the client on its own copy, "server only" really leaves the client alone,
 * as it would be in another process. Every variant uses the same split, the baseline included.
 * The copy sits under the repository, so its own dependencies resolve from the root node_modules.
 */
export const ensureClientSdkCopy = (): string => {
  const require = createRequire(join(repoRoot, 'package.json'));
  // The SDK's export map sends `./package.json` into its build folder: find the root from an entry.
  const entry = require.resolve('@modelcontextprotocol/sdk/client/index.js');
  const source = entry.slice(0, entry.lastIndexOf(`${sep}dist${sep}`));
  const target = join(benchCache, 'client-sdk', 'node_modules', '@modelcontextprotocol', 'sdk');
  const version = (root: string) =>
    (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  if (!existsSync(join(target, 'package.json')) || version(target) !== version(source)) {
    cpSync(source, target, { recursive: true, dereference: true, force: true });
  }
  return target;
};
