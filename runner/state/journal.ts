/**
 * The command journal: the response of every command that reached a definite outcome, by
 * commandId, so a repeated commandId returns the first result and executes nothing — also
 * after a restart. One file per command (named by the SHA-256 of its id), written durably.
 * Bounded: entries older than the retention are deleted, and beyond the entry cap the oldest go.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { isLeftoverTemp, writeFileDurably } from "./durable-file";

/** Far beyond any retry horizon of the Worker (minutes), short enough to keep the dir small. */
export const DEFAULT_JOURNAL_RETENTION_MS = 7 * 24 * 3600_000;
export const DEFAULT_JOURNAL_MAX_ENTRIES = 10_000;
/** Prune the directory after this many writes (and at startup). */
export const JOURNAL_PRUNE_EVERY_WRITES = 200;

/**
 * The brief journal (commands with `journal: "brief"`, e.g. collect): answers are kept long
 * enough for the sender's retries (seconds to a minute) and no longer, because they are large
 * and frequent. Pruned often so it never holds more than a few minutes of answers.
 */
export const BRIEF_JOURNAL_OPTIONS = { retentionMs: 15 * 60_000, maxEntries: 500, pruneEveryWrites: 10 } as const;

export const JournalEntrySchema = z.object({
  commandId: z.string(),
  /** SHA-256 of the request body: the same commandId with another body is a conflict. */
  requestSha256: z.string(),
  type: z.string(),
  status: z.number().int(),
  /** The exact response body bytes (UTF-8 JSON) sent the first time. */
  body: z.string(),
  storedAt: z.string(),
});
export type JournalEntry = z.output<typeof JournalEntrySchema>;

export interface JournalOptions {
  retentionMs?: number;
  maxEntries?: number;
  /** Prune after this many writes (default JOURNAL_PRUNE_EVERY_WRITES). */
  pruneEveryWrites?: number;
  now?: () => number;
  onWarning?: (event: string, fields: Record<string, unknown>) => void;
}

export class CommandJournal {
  private writes = 0;

  private constructor(
    readonly dir: string,
    private readonly opts: Required<Omit<JournalOptions, "onWarning">> & Pick<JournalOptions, "onWarning">,
  ) {}

  static async open(dir: string, opts: JournalOptions = {}): Promise<CommandJournal> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const journal = new CommandJournal(dir, {
      retentionMs: opts.retentionMs ?? DEFAULT_JOURNAL_RETENTION_MS,
      maxEntries: opts.maxEntries ?? DEFAULT_JOURNAL_MAX_ENTRIES,
      pruneEveryWrites: opts.pruneEveryWrites ?? JOURNAL_PRUNE_EVERY_WRITES,
      now: opts.now ?? Date.now,
      onWarning: opts.onWarning,
    });
    await journal.prune();
    return journal;
  }

  async get(commandId: string): Promise<JournalEntry | undefined> {
    let text: string;
    try {
      text = await readFile(this.fileOf(commandId), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    try {
      const entry = JournalEntrySchema.parse(JSON.parse(text));
      return entry.commandId === commandId ? entry : undefined;
    } catch (err) {
      this.opts.onWarning?.("journal_entry_unreadable", { commandId, error: String(err) });
      return undefined;
    }
  }

  async put(entry: Omit<JournalEntry, "storedAt">): Promise<JournalEntry> {
    const full: JournalEntry = { ...entry, storedAt: new Date(this.opts.now()).toISOString() };
    await writeFileDurably(this.fileOf(entry.commandId), JSON.stringify(full));
    if (++this.writes % this.opts.pruneEveryWrites === 0) await this.prune();
    return full;
  }

  /** Deletes expired entries, then the oldest beyond the cap, and temp files left by a crash. */
  async prune(): Promise<{ removed: number; kept: number }> {
    const names = await readdir(this.dir);
    const entries: Array<{ name: string; mtimeMs: number }> = [];
    let removed = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      if (isLeftoverTemp(name)) {
        await rm(path, { force: true });
        continue;
      }
      if (!name.endsWith(".json")) continue;
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      if (this.opts.now() - info.mtimeMs > this.opts.retentionMs) {
        await rm(path, { force: true });
        removed++;
      } else {
        entries.push({ name, mtimeMs: info.mtimeMs });
      }
    }
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
    while (entries.length > this.opts.maxEntries) {
      const oldest = entries.shift()!;
      await rm(join(this.dir, oldest.name), { force: true });
      removed++;
    }
    return { removed, kept: entries.length };
  }

  private fileOf(commandId: string): string {
    return join(this.dir, `${createHash("sha256").update(commandId).digest("hex")}.json`);
  }
}
