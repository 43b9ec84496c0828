// Module loader hooks (run on Node's loader thread, registered with `module.register`): the ESM module
// that binds an SDK package's `Protocol` class (v1's protocol module, v2's client and server package
// roots), wherever it is installed, gets one line appended that hands the class to the instrumentation
// in the application's thread as the module is evaluated.
import { fileURLToPath } from 'node:url';
import { isSupportedSdkRoot, sdkOfEsmProtocolPath, SDK_PACKAGES } from './sdk-package.js';

const PROTOCOL_MODULE_SUFFIXES = SDK_PACKAGES.map((sdk) => `/${sdk.name}/${sdk.esmProtocolFile}`);
const HANDOVER = "\n;globalThis[Symbol.for('mcpscope.protocol.listener')]?.(Protocol);\n";

interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | ArrayBufferView | null;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>;

const protocolModuleAt = (url: string): ReturnType<typeof sdkOfEsmProtocolPath> => {
  if (!url.startsWith('file:') || !PROTOCOL_MODULE_SUFFIXES.some((suffix) => url.endsWith(suffix)))
    return undefined;
  try {
    return sdkOfEsmProtocolPath(fileURLToPath(url).replaceAll('\\', '/'));
  } catch {
    return undefined;
  }
};

const text = (source: NonNullable<LoadResult['source']>): string =>
  typeof source === 'string'
    ? source
    : Buffer.from(
        source instanceof ArrayBuffer
          ? new Uint8Array(source)
          : new Uint8Array(source.buffer, source.byteOffset, source.byteLength),
      ).toString('utf8');

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (result.format !== 'module' || result.source == null) return result;
  const found = protocolModuleAt(url);
  if (found === undefined || !isSupportedSdkRoot(found.root, found.sdk)) return result;
  const source = text(result.source);
  // Only a module that binds the class at top level can hand it over.
  if (!found.sdk.esmBindsProtocol.test(source)) return result;
  return { ...result, source: `${source}${HANDOVER}` };
}
