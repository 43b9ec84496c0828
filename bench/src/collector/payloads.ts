/**
 * OTLP protobuf requests of 100 task-shaped spans, made unique per send without re-encoding: the
 * templates are encoded once, and each send stamps a fresh 32-bit generation into the first bytes
 * of every trace and span id (parents included), and its hex form into every task id, so no span is
 * ever a duplicate of another and every task is a new one (as agents' tasks are).
 * Re-encoding per send would spend the load generator's CPU, which the collector shares.
 */
import { encodeTraceRequest } from '../../../collector/src/otlp/index.js';
import type { SpanRecord } from '../../../collector/src/model/span.js';
import { SPANS_PER_TASK, seededRandom, taskSpans } from './task-workload.js';

export const SPANS_PER_REQUEST = 100;

export interface PayloadTemplate {
  bytes: Buffer;
  /** Offsets of every id occurrence in `bytes`; each is followed by at least 4 bytes of that id. */
  idOffsets: Uint32Array;
  /** Offsets of the hex digits of every task id (`task-` + 12 hex) in `bytes`. */
  taskIdOffsets: Uint32Array;
  spanCount: number;
}

const occurrences = (haystack: Buffer, needle: Buffer): number[] => {
  const found: number[] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) found.push(at);
  return found;
};

export const buildTemplate = (spans: readonly SpanRecord[]): PayloadTemplate => {
  const bytes = Buffer.from(encodeTraceRequest(spans));
  const ids = new Set<string>();
  for (const span of spans) {
    ids.add(span.traceId);
    ids.add(span.spanId);
  }
  const offsets = new Set<number>();
  for (const id of ids) for (const at of occurrences(bytes, Buffer.from(id, 'hex'))) offsets.add(at);
  const taskIds = new Set<string>();
  for (const span of spans) {
    const taskId = span.attributes['mcpscope.task.id'];
    if (typeof taskId === 'string') taskIds.add(taskId);
  }
  const taskOffsets: number[] = [];
  for (const taskId of taskIds)
    for (const at of occurrences(bytes, Buffer.from(taskId, 'ascii'))) taskOffsets.push(at + 'task-'.length);
  return {
    bytes,
    idOffsets: Uint32Array.from([...offsets].sort((a, b) => a - b)),
    taskIdOffsets: Uint32Array.from(taskOffsets),
    spanCount: spans.length,
  };
};

/** `count` templates of 100 spans (10 tasks each), timestamps within the last hour. */
export const buildTemplates = (count: number, seed = 7): PayloadTemplate[] => {
  const random = seededRandom(seed);
  const now = Date.now();
  const templates: PayloadTemplate[] = [];
  for (let index = 0; index < count; index += 1) {
    const spans: SpanRecord[] = [];
    while (spans.length < SPANS_PER_REQUEST) {
      spans.push(...taskSpans({ random, startMs: now - 3_600_000 + random() * 3_500_000 }));
    }
    templates.push(buildTemplate(spans.slice(0, SPANS_PER_REQUEST - (SPANS_PER_REQUEST % SPANS_PER_TASK))));
  }
  return templates;
};

/** Hands out unique request bodies, cycling through the templates. */
export class PayloadSource {
  private generation: number;
  private next = 0;

  constructor(
    private readonly templates: readonly PayloadTemplate[],
    /** Distinct per process that sends into the same store, so generations never collide. */
    generationBase = Math.floor(Math.random() * 0x7fff) << 16,
  ) {
    this.generation = generationBase;
  }

  take(): { body: Buffer; spanCount: number } {
    const template = this.templates[this.next]!;
    this.next = (this.next + 1) % this.templates.length;
    this.generation = (this.generation + 1) >>> 0;
    const body = Buffer.from(template.bytes);
    for (const offset of template.idOffsets) body.writeUInt32BE(this.generation, offset);
    const generationHex = this.generation.toString(16).padStart(8, '0');
    for (const offset of template.taskIdOffsets) body.write(generationHex, offset, 'ascii');
    return { body, spanCount: template.spanCount };
  }
}
