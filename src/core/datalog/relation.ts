/**
 * One predicate's facts, stored column by column and append-only, so a round of evaluation can
 * read a fixed prefix while it appends behind it and deriving a fact allocates nothing but its
 * column slots. Duplicates are found through an open-addressing hash table of sequence numbers;
 * hash indexes on the argument positions rules look up by are built on first use and kept up to
 * date on every insert.
 *
 * Values compare with ===, so the number 1 and the text "1" stay distinct.
 */
import type { Value } from "./ast";

const float = new Float64Array(1);
const floatBits = new Uint32Array(float.buffer);

function hashValue(v: Value): number {
  if (typeof v === "number") {
    if ((v | 0) === v) return Math.imul(v, 0x9e3779b1);
    float[0] = v;
    return Math.imul(floatBits[0]! ^ Math.imul(floatBits[1]!, 0x85ebca6b), 0x9e3779b1);
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v.charCodeAt(i), 0x01000193);
  return h;
}

/** murmur3's finalizer: spreads the bits so a power-of-two mask sees all of them. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Sequence numbers (positions in the relation) of facts with equal indexed arguments, ascending. */
export type Bucket = number[];

type Trie = Map<Value, unknown>;

export class HashIndex {
  private readonly root: Trie = new Map();

  constructor(readonly positions: readonly number[]) {}

  add(columns: readonly Value[][], seq: number): void {
    let node = this.root;
    const last = this.positions.length - 1;
    for (let i = 0; i < last; i++) {
      const v = columns[this.positions[i]!]![seq]!;
      let child = node.get(v) as Trie | undefined;
      if (child === undefined) {
        child = new Map();
        node.set(v, child);
      }
      node = child;
    }
    const v = columns[this.positions[last]!]![seq]!;
    const bucket = node.get(v) as Bucket | undefined;
    if (bucket === undefined) node.set(v, [seq]);
    else bucket.push(seq);
  }

  /** The facts whose indexed arguments equal `key` (in position order). */
  lookup(key: readonly Value[]): Bucket | undefined {
    let node: unknown = this.root;
    for (let i = 0; i < key.length; i++) {
      node = (node as Trie).get(key[i]!);
      if (node === undefined) return undefined;
    }
    return node as Bucket;
  }

  /** Single-position fast path. */
  lookup1(value: Value): Bucket | undefined {
    return this.root.get(value) as Bucket | undefined;
  }
}

/** The first index in an ascending bucket whose value is ≥ `seq`. */
export function lowerBound(bucket: Bucket, seq: number): number {
  let lo = 0;
  let hi = bucket.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bucket[mid]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const INITIAL_CAPACITY = 16;

export class Relation {
  /** columns[position][seq] */
  readonly columns: Value[][];
  /** The evaluation round that first derived each fact; 0 = given. Explain uses it to avoid circular proofs. */
  readonly ranks: number[] = [];
  private count = 0;
  /**
   * Open addressing with linear probing, at most half full: slot i holds [seq + 1, hash] at
   * [2i, 2i + 1] (0 = empty), so a probe reads one cache line.
   */
  private table = new Int32Array(INITIAL_CAPACITY * 2);
  private mask = INITIAL_CAPACITY - 1;
  private readonly indexes = new Map<string, HashIndex>();

  constructor(
    readonly predicate: string,
    readonly arity: number,
  ) {
    this.columns = Array.from({ length: arity }, () => []);
  }

  get size(): number {
    return this.count;
  }

  tuple(seq: number): Value[] {
    const t = new Array<Value>(this.arity);
    for (let i = 0; i < this.arity; i++) t[i] = this.columns[i]![seq]!;
    return t;
  }

  private hashOf(values: readonly Value[]): number {
    let h = 0x2545f491;
    for (let i = 0; i < this.arity; i++) h = Math.imul(h ^ hashValue(values[i]!), 0x01000193);
    return mix(h);
  }

  private equalAt(seq: number, values: readonly Value[]): boolean {
    for (let i = 0; i < this.arity; i++) if (this.columns[i]![seq] !== values[i]) return false;
    return true;
  }

  /** The fact's sequence number, or -1 if absent. */
  find(values: readonly Value[]): number {
    const h = this.hashOf(values);
    const table = this.table;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = table[2 * slot]!;
      if (entry === 0) return -1;
      if (table[2 * slot + 1] === h && this.equalAt(entry - 1, values)) return entry - 1;
    }
  }

  /** Adds the fact (its values are copied) unless present; returns whether it was new. */
  insert(values: readonly Value[], rank: number): boolean {
    const h = this.hashOf(values);
    const table = this.table;
    let slot = h & this.mask;
    for (; ; slot = (slot + 1) & this.mask) {
      const entry = table[2 * slot]!;
      if (entry === 0) break;
      if (table[2 * slot + 1] === h && this.equalAt(entry - 1, values)) return false;
    }
    const seq = this.count++;
    for (let i = 0; i < this.arity; i++) this.columns[i]!.push(values[i]!);
    this.ranks.push(rank);
    table[2 * slot] = seq + 1;
    table[2 * slot + 1] = h;
    if (this.count * 2 > this.mask + 1) this.grow();
    if (this.indexes.size > 0) for (const index of this.indexes.values()) index.add(this.columns, seq);
    return true;
  }

  private grow(): void {
    const old = this.table;
    const table = new Int32Array(old.length * 2);
    const mask = (this.mask << 1) | 1;
    for (let i = 0; i < old.length; i += 2) {
      const entry = old[i]!;
      if (entry === 0) continue;
      const h = old[i + 1]!;
      let slot = h & mask;
      while (table[2 * slot] !== 0) slot = (slot + 1) & mask;
      table[2 * slot] = entry;
      table[2 * slot + 1] = h;
    }
    this.table = table;
    this.mask = mask;
  }

  /** The hash index on these argument positions (ascending), built now if it does not exist. */
  index(positions: readonly number[]): HashIndex {
    const name = positions.join(",");
    let index = this.indexes.get(name);
    if (index === undefined) {
      index = new HashIndex(positions);
      for (let seq = 0; seq < this.count; seq++) index.add(this.columns, seq);
      this.indexes.set(name, index);
    }
    return index;
  }
}
