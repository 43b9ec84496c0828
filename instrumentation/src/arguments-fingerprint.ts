import { createHmac, randomBytes } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` fingerprint alike. Values JSON
 * cannot hold (functions, symbols, undefined) are dropped as JSON.stringify drops them; cycles become
 * a fixed marker instead of throwing.
 */
export const canonicalJson = (value: unknown): string => {
  const seen = new WeakSet<object>();
  const normalise = (node: unknown): unknown => {
    if (node === null || typeof node !== 'object') return typeof node === 'bigint' ? node.toString() : node;
    if (seen.has(node)) return '[cycle]';
    seen.add(node);
    if (Array.isArray(node)) return node.map(normalise);
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(node).sort())
      sorted[key] = normalise((node as Record<string, unknown>)[key]);
    seen.delete(node);
    return sorted;
  };
  return JSON.stringify(normalise(value)) ?? 'null';
};

/** A keyed fingerprint of raw arguments: equal arguments give equal fingerprints, values stay unknown. */
export const createArgumentsFingerprinter = (key: string | undefined) => {
  const secret = key !== undefined && key !== '' ? Buffer.from(key, 'utf8') : randomBytes(32);
  return function argumentsFingerprint(args: unknown): string {
    return createHmac('sha256', secret)
      .update(canonicalJson(args ?? {}))
      .digest('hex')
      .slice(0, 32);
  };
};
