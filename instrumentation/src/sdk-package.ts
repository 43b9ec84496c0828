import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The MCP SDK packages that hold a `Protocol` class, and where it is in each build: what every way of
 * patching them looks for. v1 is one package with client and server on one protocol module; v2 splits
 * client and server into packages that each bundle their own copy of the protocol core, exported from
 * the package root.
 */
export interface SdkPackage {
  name: string;
  /** The supported versions, as the package's peer range says: a lower and an exclusive upper bound. */
  range: string;
  inRange: (version: string) => boolean;
  /** The CommonJS module that exports `Protocol`, relative to the package root. */
  cjsProtocolFile: string;
  /** The ESM module that exports `Protocol`, relative to the package root. */
  esmProtocolFile: string;
  /** What require-in-the-middle names that CommonJS module by (it drops a `.js` extension). */
  requireHookName: string;
  /** A specifier that resolves inside the package, to find its root from a base path. */
  resolvableEntry: string;
  /** How the ESM module's source binds `Protocol` at top level, so a line appended to it can hand it over. */
  esmBindsProtocol: RegExp;
  /**
   * When an ESM application's copy is imported at start to patch it: `always` where it resolves, or only
   * when the application's package.json declares it (v2's package roots load the whole SDK: a few
   * hundred ms an application that does not use them should not pay).
   */
  importAtStart: 'always' | 'when-declared';
}

const majorMinor = (version: string): [number, number] | undefined => {
  const match = /^(\d+)\.(\d+)\./.exec(version);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
};

/** `>=1.10.0 <2` */
const inV1Range = (version: string): boolean => {
  const parsed = majorMinor(version);
  return parsed !== undefined && parsed[0] === 1 && parsed[1] >= 10;
};

/** `>=2.0.0 <3`, pre-releases of 2.0.0 excluded (their internals changed from one to the next). */
const inV2Range = (version: string): boolean => majorMinor(version)?.[0] === 2 && !/^2\.0\.0-/.test(version);

export const SDK_V1: SdkPackage = {
  name: '@modelcontextprotocol/sdk',
  range: '>=1.10.0 <2',
  inRange: inV1Range,
  cjsProtocolFile: 'dist/cjs/shared/protocol.js',
  esmProtocolFile: 'dist/esm/shared/protocol.js',
  requireHookName: '@modelcontextprotocol/sdk/dist/cjs/shared/protocol',
  resolvableEntry: '@modelcontextprotocol/sdk/client/index.js',
  esmBindsProtocol: /^export class Protocol\b/m,
  importAtStart: 'always',
};

const v2Package = (side: 'client' | 'server'): SdkPackage => ({
  name: `@modelcontextprotocol/${side}`,
  range: '>=2.0.0 <3',
  inRange: inV2Range,
  cjsProtocolFile: 'dist/index.cjs',
  esmProtocolFile: 'dist/index.mjs',
  // The package's main entry is its root module: require-in-the-middle matches it by package name.
  requireHookName: `@modelcontextprotocol/${side}`,
  resolvableEntry: `@modelcontextprotocol/${side}`,
  esmBindsProtocol: /^import \{[^}]*\bas Protocol\b[^}]*\}|^export class Protocol\b/m,
  importAtStart: 'when-declared',
});

export const SDK_V2_CLIENT = v2Package('client');
export const SDK_V2_SERVER = v2Package('server');

export const SDK_PACKAGES: readonly SdkPackage[] = [SDK_V1, SDK_V2_CLIENT, SDK_V2_SERVER];

const installedVersion = (root: string): string | undefined => {
  try {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
};

/** Whether the SDK package installed at `root` (the folder of its package.json) is in its supported range. */
export const isSupportedSdkRoot = (root: string, sdk: SdkPackage = SDK_V1): boolean => {
  const version = installedVersion(root);
  return version !== undefined && sdk.inRange(version);
};

/** The SDK package whose ESM protocol module a path (with `/` separators) ends with, and that package's root. */
export const sdkOfEsmProtocolPath = (path: string): { sdk: SdkPackage; root: string } | undefined => {
  for (const sdk of SDK_PACKAGES) {
    const suffix = `/${sdk.name}/${sdk.esmProtocolFile}`;
    if (path.endsWith(suffix))
      return { sdk, root: path.slice(0, path.length - sdk.esmProtocolFile.length - 1) };
  }
  return undefined;
};
