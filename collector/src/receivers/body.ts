import { createGunzip } from 'node:zlib';

export type BodyResult =
  { ok: true; body: Uint8Array } | { ok: false; problem: 'too_large' | 'corrupt' | 'busy' };

/** Asked before the bytes held reach `total`; false stops reading with `busy`. */
export type HoldBytes = (total: number) => boolean;

const holdAny: HoldBytes = () => true;

/** Reads a request body, giving up as soon as it passes `maxBytes` or `hold` refuses more. */
export async function readBodyCapped(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  hold: HoldBytes = holdAny,
): Promise<BodyResult> {
  if (stream === null) return { ok: true, body: new Uint8Array(0) };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes || !hold(total)) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, problem: total > maxBytes ? 'too_large' : 'busy' };
    }
    chunks.push(value);
  }
  return { ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total) };
}

/**
 * Inflates a gzip body chunk by chunk and stops as soon as the output passes `maxBytes` or `hold`
 * refuses more, so a compression bomb costs at most what it was allowed plus one chunk of memory.
 */
export function gunzipCapped(
  input: Uint8Array,
  maxBytes: number,
  hold: HoldBytes = holdAny,
): Promise<BodyResult> {
  return new Promise((resolve) => {
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    gunzip.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes || !hold(total)) {
        chunks.length = 0;
        gunzip.destroy();
        settle({ ok: false, problem: total > maxBytes ? 'too_large' : 'busy' });
        return;
      }
      chunks.push(chunk);
    });
    gunzip.on('error', () => settle({ ok: false, problem: 'corrupt' }));
    gunzip.on('end', () => settle({ ok: true, body: Buffer.concat(chunks, total) }));
    gunzip.end(input);
  });
}
