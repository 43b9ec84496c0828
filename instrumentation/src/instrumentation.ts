import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InstrumentationBase } from '@opentelemetry/instrumentation';
import { observeHttpAuth } from './auth-events.js';
import { McpTelemetry } from './mcp-telemetry.js';
import { hookProtocolImports, hookProtocolRequires, setProtocolListener } from './module-hooks.js';
import {
  isProtocolPrototype,
  patchProtocolPrototype,
  setActiveTelemetry,
  unpatchProtocolPrototype,
} from './patch-protocol.js';
import { isSupportedSdkRoot, SDK_PACKAGES, type SdkPackage } from './sdk-package.js';
import type { McpInstrumentationConfig } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

const CJS_PROTOCOL_SUFFIXES = SDK_PACKAGES.map((sdk) => `${sep}${join(sdk.name, sdk.cjsProtocolFile)}`);
// One module cache serves every require function; this one also works where this file runs as ESM (tests).
const nodeRequire = createRequire(join(process.cwd(), 'index.js'));
const thisFile = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');

interface ProtocolClass {
  prototype: unknown;
}
interface ProtocolModule {
  Protocol?: ProtocolClass;
}

/** The root of an SDK package that `entry`, a file resolved inside it, belongs to. */
const packageRootOf = (sdk: SdkPackage, entry: string): string | undefined => {
  const marker = `${sep}${join(sdk.name)}${sep}`;
  const at = entry.lastIndexOf(marker);
  return at < 0 ? undefined : entry.slice(0, at + marker.length - 1);
};

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];

/** The packages the application declares: in the package.json nearest its entry script, and in the working directory's. */
const declaredPackages = (): Set<string> => {
  const declared = new Set<string>();
  const starts = [process.cwd()];
  if (process.argv[1]) starts.push(dirname(resolve(process.argv[1])));
  for (const start of starts) {
    for (let dir = start; ; dir = dirname(dir)) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        for (const field of DEPENDENCY_FIELDS) {
          const dependencies = manifest[field];
          if (dependencies && typeof dependencies === 'object')
            Object.keys(dependencies).forEach((name) => declared.add(name));
        }
        break;
      } catch {
        if (dirname(dir) === dir) break;
      }
    }
  }
  return declared;
};

/** SDK installations (v1 and v2 packages) resolvable from this package, the working directory and the entry script. */
const sdkRoots = (): Array<{ sdk: SdkPackage; root: string }> => {
  const bases = [thisFile, join(process.cwd(), 'index.js')];
  if (process.argv[1]) bases.push(resolve(process.argv[1]));
  const found = new Map<string, { sdk: SdkPackage; root: string }>();
  for (const sdk of SDK_PACKAGES) {
    for (const base of bases) {
      try {
        const root = packageRootOf(sdk, createRequire(base).resolve(sdk.resolvableEntry));
        if (root !== undefined && !found.has(root)) found.set(root, { sdk, root });
      } catch {
        // not resolvable from here
      }
    }
  }
  let declared: Set<string> | undefined;
  const wanted = (sdk: SdkPackage) =>
    sdk.importAtStart === 'always' || (declared ??= declaredPackages()).has(sdk.name);
  return [...found.values()].filter(({ sdk, root }) => wanted(sdk) && isSupportedSdkRoot(root, sdk));
};

const inputTypeFromExecArgv = (): 'commonjs' | 'module' | undefined => {
  const args = process.execArgv;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    const value =
      arg === '--input-type' ? args[index + 1] : arg?.startsWith('--input-type=') ? arg.slice(13) : undefined;
    if (value === 'module' || value === 'commonjs') return value;
  }
  return undefined;
};

/** Whether the entry script is CommonJS or ESM, from how it was loaded or its extension and package type. */
const entryModuleFormat = (): 'commonjs' | 'module' | 'unknown' => {
  if (nodeRequire.main !== undefined) return 'commonjs';
  const entry = process.argv[1];
  // No entry file (`-e`, stdin): `--input-type` says how the code is read, when given.
  if (!entry) return inputTypeFromExecArgv() ?? 'unknown';
  if (/\.[mc]?ts$/.test(entry)) return 'unknown';
  if (entry.endsWith('.mjs')) return 'module';
  if (entry.endsWith('.cjs')) return 'commonjs';
  for (let dir = dirname(resolve(entry)); ; dir = dirname(dir)) {
    try {
      const { type } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: string };
      return type === 'module' ? 'module' : 'commonjs';
    } catch {
      if (dirname(dir) === dir) return 'commonjs';
    }
  }
};

/**
 * OpenTelemetry instrumentation for the MCP TypeScript SDK. Patches `Protocol.prototype` of the SDK
 * copies already loaded, of every CommonJS copy as it loads, and of the ESM copies resolvable beside
 * an application that is not CommonJS, or as they load where the loader hook is in place (see
 * `module-hooks.ts`). Anything else (a bundled SDK, an unresolvable ESM copy in an ESM application)
 * is covered by `instrumentMcp(serverOrClient)`.
 */
export class McpInstrumentation extends InstrumentationBase<McpInstrumentationConfig> {
  // `declare`d: the base constructor calls enable() before field initialisers would run.
  declare private telemetry?: McpTelemetry;
  declare private stopAuthObservers?: () => void;
  declare private patchedPrototypes?: Set<object>;
  declare private readyPromise?: Promise<void>;

  /** Settles when the ESM copies of the SDK found at enable time are patched. Never rejects. */
  get ready(): Promise<void> {
    return this.readyPromise ?? Promise.resolve();
  }

  constructor(config: McpInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  /**
   * No module definitions: the base class's require hook names the package and resolves its main
   * entry, which the SDK declares but does not ship, so it never fires for the SDK. `enable()`
   * patches the copies it can resolve and hooks the protocol module by its path (`module-hooks.ts`).
   */
  protected override init() {
    return [];
  }

  override setConfig(config: McpInstrumentationConfig = {}): void {
    super.setConfig(config);
    if (this.telemetry) this.activate();
  }

  override enable(): void {
    super.enable();
    this.activate();
    this.patchLoadedCommonJsCopies();
    // Copies loaded later, from wherever they are installed, are patched as they load: every CommonJS
    // copy through the require hook, so none is loaded ahead of the application.
    setProtocolListener((protocolClass) => this.patchModule({ Protocol: protocolClass as ProtocolClass }));
    hookProtocolRequires();
    // The ESM build is loaded before the application's modules are evaluated, unless the entry is
    // CommonJS: that would cost start-up and patch nothing.
    const format = entryModuleFormat();
    if (format !== 'commonjs') this.readyPromise = this.patchEsmCopies();
    // A CommonJS application can still reach the ESM build through `import()`. In an ESM application
    // the loader hook slows every module load: there only when asked for.
    if (format === 'commonjs' || this.getConfig().esmLoaderHook === true) hookProtocolImports();
    if (this.getConfig().observeHttpAuth !== false && !this.stopAuthObservers) {
      this.stopAuthObservers = observeHttpAuth();
    }
  }

  override disable(): void {
    super.disable();
    setProtocolListener(undefined);
    setActiveTelemetry(undefined);
    this.telemetry = undefined;
    this.stopAuthObservers?.();
    this.stopAuthObservers = undefined;
    for (const proto of this.patchedPrototypes ?? []) {
      if (isProtocolPrototype(proto)) unpatchProtocolPrototype(proto);
    }
    this.patchedPrototypes?.clear();
  }

  /** Patches the SDK copy behind one client or server instance (see `instrumentMcp`). */
  patchPrototype(proto: object): void {
    if (!isProtocolPrototype(proto)) return;
    patchProtocolPrototype(proto);
    (this.patchedPrototypes ??= new Set()).add(proto);
  }

  private activate(): void {
    this.telemetry = new McpTelemetry(() => this.tracer, this.getConfig());
    setActiveTelemetry(this.telemetry);
  }

  private patchModule(moduleExports: ProtocolModule | undefined): void {
    const proto = moduleExports?.Protocol?.prototype;
    if (proto) this.patchPrototype(proto);
    else this._diag.warn('mcpscope: the MCP SDK protocol module has no Protocol class; nothing patched');
  }

  private patchLoadedCommonJsCopies(): void {
    for (const [file, cached] of Object.entries(nodeRequire.cache)) {
      if (CJS_PROTOCOL_SUFFIXES.some((suffix) => file.endsWith(suffix)))
        this.patchModule(cached?.exports as ProtocolModule);
    }
  }

  private async patchEsmCopies(): Promise<void> {
    for (const { sdk, root } of sdkRoots()) {
      try {
        const esm = (await import(pathToFileURL(join(root, sdk.esmProtocolFile)).href)) as ProtocolModule;
        this.patchModule(esm);
      } catch (error) {
        this._diag.debug(`mcpscope: no ESM build of the MCP SDK at ${dirname(root)}`, error);
      }
    }
  }
}
