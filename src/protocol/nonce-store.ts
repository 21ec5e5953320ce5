/**
 * Remembers accepted nonces until they could no longer pass the freshness check, so a captured
 * request cannot be sent again. The runner persists its store to disk; the Worker's /api/ingest
 * brings its own; this in-memory one serves tests and short-lived verifiers.
 */

export interface NonceStore {
  /**
   * Atomically: when `nonce` is already remembered (and not expired at `nowSeconds`) return
   * false; otherwise remember it until `expiresAtSeconds` and return true.
   */
  remember(nonce: string, expiresAtSeconds: number, nowSeconds: number): Promise<boolean>;
}

/** Thrown when a store would have to forget unexpired nonces to take a new one. */
export class NonceStoreFullError extends Error {
  override name = "NonceStoreFullError";
}

/** Upper bound on remembered nonces; at 300 s freshness this allows > 300 requests/s. */
export const DEFAULT_MAX_NONCES = 100_000;

export class MemoryNonceStore implements NonceStore {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = DEFAULT_MAX_NONCES) {}

  async remember(nonce: string, expiresAtSeconds: number, nowSeconds: number): Promise<boolean> {
    const expiry = this.seen.get(nonce);
    if (expiry !== undefined && expiry >= nowSeconds) return false;
    if (this.seen.size >= this.maxEntries) this.prune(nowSeconds);
    if (this.seen.size >= this.maxEntries) throw new NonceStoreFullError(`nonce store holds ${this.maxEntries} unexpired nonces`);
    this.seen.set(nonce, expiresAtSeconds);
    return true;
  }

  prune(nowSeconds: number): void {
    for (const [nonce, expiry] of this.seen) if (expiry < nowSeconds) this.seen.delete(nonce);
  }

  get size(): number {
    return this.seen.size;
  }
}
