// Module loader hooks (run on Node's loader thread, registered with `module.register`): the ESM build
// of the SDK's protocol module, wherever it is installed, gets one line appended that hands its
// `Protocol` class to the instrumentation in the application's thread as the module is evaluated.
import { fileURLToPath } from 'node:url';
import { ESM_PROTOCOL_FILE, isSupportedSdkRoot, SDK_PACKAGE } from './sdk-package.js';

const PROTOCOL_MODULE = `/${SDK_PACKAGE}/${ESM_PROTOCOL_FILE}`;
const HANDOVER = "\n;globalThis[Symbol.for('mcpscope.protocol.listener')]?.(Protocol);\n";

interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | ArrayBufferView | null;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>;

const sdkRootOf = (url: string): string | undefined => {
  if (!url.startsWith('file:')) return undefined;
  try {
    const path = fileURLToPath(url);
    return path.slice(0, path.length - ESM_PROTOCOL_FILE.length - 1);
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
  if (!url.endsWith(PROTOCOL_MODULE) || result.format !== 'module' || result.source == null) return result;
  const root = sdkRootOf(url);
  if (root === undefined || !isSupportedSdkRoot(root)) return result;
  const source = text(result.source);
  // Only a module that declares the class at top level can hand it over.
  if (!/^export class Protocol\b/m.test(source)) return result;
  return { ...result, source: `${source}${HANDOVER}` };
}
