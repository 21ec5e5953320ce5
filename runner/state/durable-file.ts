/**
 * Crash-safe file writes for the runner's state: write a temp file, fsync it, rename it over the
 * target, fsync the directory. A reader sees the old file or the new one, never half of one.
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export const TEMP_SUFFIX = ".tmp";

export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}${TEMP_SUFFIX}`);
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

/** fsync a directory so a rename or a new file in it survives a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Temp files a crash may have left next to `path`s in `dir` (safe to delete at startup). */
export function isLeftoverTemp(name: string): boolean {
  return name.startsWith(".") && name.endsWith(TEMP_SUFFIX);
}
