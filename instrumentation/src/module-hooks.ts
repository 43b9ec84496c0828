import { register } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hook } from 'require-in-the-middle';
import { isSupportedSdkRoot, SDK_PACKAGES } from './sdk-package.js';

/**
 * Hands over the SDK's `Protocol` class each time a copy of its protocol module loads, wherever the
 * copy is installed: a require hook for the CommonJS build, and for the ESM build a loader hook
 * (`esm-loader-hooks.mjs`) that appends a call to the module's source. The hooks live as long as the
 * process (Node has no way to remove a loader hook) and are installed once, whichever copy of this
 * package asks; they report to the listener of the instrumentation enabled last.
 */

const LISTENER = Symbol.for('mcpscope.protocol.listener');
const REQUIRE_HOOKED = Symbol.for('mcpscope.hooks.require');
const IMPORT_HOOKED = Symbol.for('mcpscope.hooks.import');

type ProtocolListener = (protocolClass: unknown) => void;
const globals = globalThis as unknown as {
  [LISTENER]?: ProtocolListener;
  [REQUIRE_HOOKED]?: true;
  [IMPORT_HOOKED]?: true;
};

export const setProtocolListener = (listener: ProtocolListener | undefined): void => {
  globals[LISTENER] = listener;
};

/** Every later `require` of an SDK package's CommonJS protocol module (v1 and v2), from any installation in range. */
export const hookProtocolRequires = (): void => {
  if (globals[REQUIRE_HOOKED]) return;
  globals[REQUIRE_HOOKED] = true;
  const byHookName = new Map(SDK_PACKAGES.map((sdk) => [sdk.requireHookName, sdk]));
  // v1 is named by its protocol module's full path inside the package: require-in-the-middle then
  // matches the file without resolving the package's main entry (which v1 declares but does not ship).
  new Hook([...byHookName.keys()], { internals: true }, (exports, name, basedir) => {
    const sdk = byHookName.get(name);
    if (sdk !== undefined && basedir !== undefined && isSupportedSdkRoot(basedir, sdk)) {
      globals[LISTENER]?.((exports as { Protocol?: unknown } | undefined)?.Protocol);
    }
    return exports;
  });
};

/**
 * Every later load of the SDK's ESM protocol module (an `import()` from CommonJS code, say). A loader
 * hook runs on a thread of its own and sees every module the process loads afterwards, which costs
 * start-up time in an ESM application; callers install it only where it covers something.
 */
export const hookProtocolImports = (): void => {
  if (globals[IMPORT_HOOKED]) return;
  // Beside this file once built; absent when the sources run untranspiled (tests).
  const hooks = typeof __dirname === 'string' ? join(__dirname, 'esm-loader-hooks.mjs') : undefined;
  if (hooks === undefined || !existsSync(hooks) || typeof register !== 'function') return;
  register(pathToFileURL(hooks));
  globals[IMPORT_HOOKED] = true;
};
