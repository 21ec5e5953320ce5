/**
 * The runner's nonce cache on disk, so a request captured before a restart cannot be replayed
 * after it. An append-only log of `{"n": nonce, "e": expiresAtSeconds}` lines, each fsync'd
 * before the request is executed; compacted (atomic rewrite of the live entries) at startup and
 * whenever the dead lines outnumber the live ones. A torn last line from a crash is ignored:
 * that request was never executed, because execution waits for the fsync.
 */
import { existsSync, readFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { z } from "zod";
import { DEFAULT_MAX_NONCES, NonceStoreFullError, type NonceStore } from "../../src/protocol";
import { syncDirectory, writeFileDurably } from "./durable-file";
import { dirname } from "node:path";

/** Every this many appends, drop expired nonces and rewrite the log if at most half of it is live. */
export const NONCE_LOG_COMPACT_SLACK = 1_000;

const LineSchema = z.object({ n: z.string(), e: z.number().int() });

export class FileNonceStore implements NonceStore {
  private handle: FileHandle | undefined;
  private lines = 0;
  private linesAtLastCheck = 0;
  /** Appends and compactions run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly seen: Map<string, number>,
    private readonly maxEntries: number,
  ) {}

  static async open(path: string, opts: { nowSeconds: number; maxEntries?: number }): Promise<FileNonceStore> {
    const seen = new Map<string, number>();
    if (existsSync(path)) {
      for (const line of readFileSync(path, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        let parsed;
        try {
          parsed = LineSchema.safeParse(JSON.parse(line));
        } catch {
          continue; // torn write from a crash
        }
        if (parsed.success && parsed.data.e >= opts.nowSeconds) seen.set(parsed.data.n, Math.max(parsed.data.e, seen.get(parsed.data.n) ?? 0));
      }
    }
    const store = new FileNonceStore(path, seen, opts.maxEntries ?? DEFAULT_MAX_NONCES);
    await store.compact();
    return store;
  }

  remember(nonce: string, expiresAtSeconds: number, nowSeconds: number): Promise<boolean> {
    const expiry = this.seen.get(nonce);
    if (expiry !== undefined && expiry >= nowSeconds) return Promise.resolve(false);
    if (this.seen.size >= this.maxEntries) this.prune(nowSeconds);
    if (this.seen.size >= this.maxEntries) return Promise.reject(new NonceStoreFullError(`nonce store holds ${this.maxEntries} unexpired nonces`));
    // Claim it synchronously so a concurrent request with the same nonce is refused at once.
    this.seen.set(nonce, expiresAtSeconds);
    const appended = this.enqueue(async () => {
      const handle = await this.appendHandle();
      await handle.appendFile(`${JSON.stringify({ n: nonce, e: expiresAtSeconds })}\n`);
      await handle.sync();
      this.lines++;
      if (this.lines >= this.linesAtLastCheck + NONCE_LOG_COMPACT_SLACK) {
        this.prune(nowSeconds);
        if (this.seen.size * 2 <= this.lines) await this.rewrite();
        else this.linesAtLastCheck = this.lines;
      }
    });
    return appended.then(
      () => true,
      (err: unknown) => {
        this.seen.delete(nonce);
        throw err;
      },
    );
  }

  get size(): number {
    return this.seen.size;
  }

  async close(): Promise<void> {
    await this.enqueue(async () => {
      await this.handle?.close();
      this.handle = undefined;
    });
  }

  private prune(nowSeconds: number): void {
    for (const [nonce, expiry] of this.seen) if (expiry < nowSeconds) this.seen.delete(nonce);
  }

  private compact(): Promise<void> {
    return this.enqueue(() => this.rewrite());
  }

  private async rewrite(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const text = [...this.seen].map(([n, e]) => `${JSON.stringify({ n, e })}\n`).join("");
    await writeFileDurably(this.path, text);
    this.lines = this.seen.size;
    this.linesAtLastCheck = this.lines;
  }

  private async appendHandle(): Promise<FileHandle> {
    if (!this.handle) {
      this.handle = await open(this.path, "a", 0o600);
      await syncDirectory(dirname(this.path));
    }
    return this.handle;
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
