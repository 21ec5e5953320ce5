/**
 * One predicate's facts: an append-only list (so a round of evaluation can read a fixed prefix
 * while it appends), a trie of Maps for duplicate detection, and hash indexes on the argument
 * positions that rules look up by, built on first use and kept up to date on every insert.
 *
 * Values are used as Map keys directly: Map compares with SameValueZero, so the number 1 and
 * the text "1" stay distinct without building string keys.
 */
import type { Value } from "./ast";

type Trie = Map<Value, unknown>;

/** Sequence numbers (positions in `tuples`) of the facts whose indexed arguments are equal. */
export type Bucket = number[];

export class HashIndex {
  private readonly root: Trie = new Map();

  constructor(readonly positions: readonly number[]) {}

  add(tuple: readonly Value[], seq: number): void {
    let node = this.root;
    const last = this.positions.length - 1;
    for (let i = 0; i < last; i++) {
      const v = tuple[this.positions[i]!]!;
      let child = node.get(v) as Trie | undefined;
      if (child === undefined) {
        child = new Map();
        node.set(v, child);
      }
      node = child;
    }
    const v = tuple[this.positions[last]!]!;
    const bucket = node.get(v) as Bucket | undefined;
    if (bucket === undefined) node.set(v, [seq]);
    else bucket.push(seq);
  }

  /** The facts whose indexed arguments equal `key` (in index position order), in insertion order. */
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

export class Relation {
  readonly tuples: Value[][] = [];
  /** The evaluation round that first derived each fact; 0 = given. Explain uses it to avoid circular proofs. */
  readonly ranks: number[] = [];
  private readonly seen: Trie = new Map();
  private nullarySeq = -1;
  private readonly indexes = new Map<string, HashIndex>();

  constructor(
    readonly predicate: string,
    readonly arity: number,
  ) {}

  get size(): number {
    return this.tuples.length;
  }

  /** The fact's sequence number, or -1 if absent. */
  find(tuple: readonly Value[]): number {
    if (this.arity === 0) return this.nullarySeq;
    let node: unknown = this.seen;
    for (let i = 0; i < this.arity; i++) {
      node = (node as Trie).get(tuple[i]!);
      if (node === undefined) return -1;
    }
    return node as number;
  }

  /** Adds the fact unless present; returns whether it was new. */
  insert(tuple: Value[], rank: number): boolean {
    const seq = this.tuples.length;
    if (this.arity === 0) {
      if (this.nullarySeq >= 0) return false;
      this.nullarySeq = seq;
    } else {
      let node = this.seen;
      const last = this.arity - 1;
      for (let i = 0; i < last; i++) {
        const v = tuple[i]!;
        let child = node.get(v) as Trie | undefined;
        if (child === undefined) {
          child = new Map();
          node.set(v, child);
        }
        node = child;
      }
      const v = tuple[last]!;
      if (node.has(v)) return false;
      node.set(v, seq);
    }
    this.tuples.push(tuple);
    this.ranks.push(rank);
    for (const index of this.indexes.values()) index.add(tuple, seq);
    return true;
  }

  /** The hash index on these argument positions (ascending), built now if it does not exist. */
  index(positions: readonly number[]): HashIndex {
    const name = positions.join(",");
    let index = this.indexes.get(name);
    if (index === undefined) {
      index = new HashIndex(positions);
      for (let seq = 0; seq < this.tuples.length; seq++) index.add(this.tuples[seq]!, seq);
      this.indexes.set(name, index);
    }
    return index;
  }
}
