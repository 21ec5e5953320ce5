/**
 * The agent's samples not yet delivered, oldest first, at most `capacity` of them: during an
 * outage of the Worker the newest samples are kept and the oldest dropped (and logged), so
 * memory stays bounded and, once the Worker is back, the recent history arrives in order.
 *
 * @example
 *   const buffer = new SampleBuffer<RawSample>(60);
 *   const dropped = buffer.add(sample); // the oldest sample, when the buffer was full
 */
export class SampleBuffer<T> {
  private readonly items: T[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`buffer capacity must be a whole number ≥ 1, got ${capacity}`);
  }

  /** Appends `item`; returns the oldest item it displaced when the buffer was full. */
  add(item: T): T | undefined {
    this.items.push(item);
    return this.items.length > this.capacity ? this.items.shift() : undefined;
  }

  /** The oldest item, left in place until it is delivered (`shift`). */
  peek(): T | undefined {
    return this.items[0];
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  get size(): number {
    return this.items.length;
  }
}
