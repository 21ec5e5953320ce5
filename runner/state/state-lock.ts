/**
 * One runner per state dir: two processes appending to the same nonce log and journal would
 * each miss what the other remembered. A pid file taken with O_EXCL; a stale one (its process
 * is gone, e.g. after SIGKILL) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pidAlive } from "../os/pid";

export function lockStateDir(stateDir: string): () => void {
  const path = join(stateDir, "runner.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder)) {
        throw new Error(`state dir ${stateDir} is in use by runner pid ${holder}; stop it or use another --state-dir`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`cannot lock state dir ${stateDir}`);
}

