/**
 * A set of ids that answers "certainly absent" or "maybe present": a Bloom filter that grows by
 * adding filters four times as large, so it never needs the ids again. The store asks it before reading
 * the `traces` table, which a new trace (most of them) then never costs a query.
 */
const BITS_PER_ID = 12; // ~0.3% false positives per filter with 8 probes
const PROBES = 8;
const GROWTH = 4;

/** The murmur3 finaliser: spreads every input bit over the whole word. */
const mix = (value: number): number => {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

/** Two independent 32-bit hashes of a string (FNV-1a and djb2, each finalised), for double hashing. */
const hashes = (id: string): [number, number] => {
  let a = 0x811c9dc5;
  let b = 5381;
  for (let index = 0; index < id.length; index++) {
    const code = id.charCodeAt(index);
    a = Math.imul(a ^ code, 0x01000193);
    b = (Math.imul(b, 33) + code) | 0;
  }
  return [mix(a), (mix(b) | 1) >>> 0];
};

class BloomFilter {
  readonly bits: Uint32Array;
  readonly size: number;
  count = 0;

  constructor(readonly capacity: number) {
    this.size = Math.max(64, capacity * BITS_PER_ID);
    this.bits = new Uint32Array(Math.ceil(this.size / 32));
  }

  add(first: number, step: number): void {
    for (let probe = 0; probe < PROBES; probe++) {
      const bit = (first + probe * step) % this.size;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count++;
  }

  mayHave(first: number, step: number): boolean {
    for (let probe = 0; probe < PROBES; probe++) {
      const bit = (first + probe * step) % this.size;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

export class IdFilter {
  private readonly filters: BloomFilter[];

  constructor(initialCapacity = 65_536) {
    this.filters = [new BloomFilter(initialCapacity)];
  }

  add(id: string): void {
    let newest = this.filters.at(-1) as BloomFilter;
    if (newest.count >= newest.capacity) {
      newest = new BloomFilter(newest.capacity * GROWTH);
      this.filters.push(newest);
    }
    const [first, step] = hashes(id);
    newest.add(first, step);
  }

  /** False only when `id` was never added. */
  mayHave(id: string): boolean {
    const [first, step] = hashes(id);
    return this.filters.some((filter) => filter.mayHave(first, step));
  }

  /** Bytes held by the bit arrays. */
  get bytes(): number {
    return this.filters.reduce((sum, filter) => sum + filter.bits.byteLength, 0);
  }
}
