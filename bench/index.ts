/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts, whose default export is
 * `(args: string[]) => Promise<boolean>` (false = a target was missed → exit code 1).
 * `npm run bench` alone lists the benchmarks.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const IGNORED = new Set(["index", "table"]);
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.replace(/\.ts$/, ""))
  .filter((n) => !IGNORED.has(n) && !n.startsWith("_"));

const [name, ...args] = process.argv.slice(2);
if (!name || name === "--help") {
  console.log(`Usage: npm run bench -- <name> [args]\nBenchmarks: ${available.join(", ") || "(none yet)"}`);
  process.exit(name ? 0 : 2);
}
if (!available.includes(name)) {
  console.error(`unknown benchmark "${name}"; available: ${available.join(", ") || "(none yet)"}`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { default: (args: string[]) => Promise<boolean> };
const ok = await mod.default(args);
process.exit(ok ? 0 : 1);
