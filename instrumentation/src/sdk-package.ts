import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The SDK package, and its protocol module in each build: what every way of patching it looks for. */
export const SDK_PACKAGE = '@modelcontextprotocol/sdk';
export const CJS_PROTOCOL_FILE = 'dist/cjs/shared/protocol.js';
export const ESM_PROTOCOL_FILE = 'dist/esm/shared/protocol.js';

/** The SDK versions the package declares as its peer range (`>=1.10.0 <2`). */
export const satisfiesSupportedRange = (version: string): boolean => {
  const [major, minor] = version.split('.').map(Number);
  return major === 1 && minor !== undefined && minor >= 10;
};

/** Whether the SDK installed at `root` (the folder of its package.json) is in the supported range. */
export const isSupportedSdkRoot = (root: string): boolean => {
  try {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' && satisfiesSupportedRange(version);
  } catch {
    return false;
  }
};
