import { register } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hook } from 'require-in-the-middle';
import { CJS_PROTOCOL_FILE, isSupportedSdkRoot, SDK_PACKAGE } from './sdk-package.js';

/**
 * Hands over the SDK's `Protocol` class each time a copy of its protocol module loads, wherever the
 * copy is installed: a require hook for the CommonJS build, and for the ESM build a loader hook
 * (`esm-loader-hooks.mjs`) that appends a call to the module's source. The hooks live as long as the
 * process (Node has no way to remove a loader hook) and are installed once, whichever copy of this
 * package asks; they report to the listener of the instrumentation enabled last.
 */

// require-in-the-middle names a file inside a package without its extension.
const CJS_PROTOCOL_MODULE = `${SDK_PACKAGE}/${CJS_PROTOCOL_FILE.replace(/\.js$/, '')}`;
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

/** Every later `require` of the SDK's CommonJS protocol module, from any installation in range. */
export const hookProtocolRequires = (): void => {
  if (globals[REQUIRE_HOOKED]) return;
  globals[REQUIRE_HOOKED] = true;
  // Named by its full path inside the package: require-in-the-middle then matches the file without
  // resolving the package's main entry (which the SDK declares but does not ship).
  new Hook([CJS_PROTOCOL_MODULE], { internals: true }, (exports, _name, basedir) => {
    if (basedir !== undefined && isSupportedSdkRoot(basedir)) {
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
