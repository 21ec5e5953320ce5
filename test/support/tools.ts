/**
 * Tests that need a system tool (pgbouncer, hypopg, pgbench …) call `needTool`. When the tool is
 * missing the test is skipped with a loud message, or fails when PG2UNE_REQUIRE_ALL=1 (CI).
 */
import { existsSync } from "node:fs";
import { findTool } from "../../runner/postgres/binaries";

export const REQUIRE_ALL = process.env.PG2UNE_REQUIRE_ALL === "1";

export interface ToolCheck {
  ok: boolean;
  path?: string;
  why?: string;
}

/** Looks a binary up; `installHint` says how to get it. */
export function checkTool(tool: string, installHint: string): ToolCheck {
  const path = findTool(tool);
  if (path) return { ok: true, path };
  return { ok: false, why: `${tool} is not installed (${installHint})` };
}

/** A PostgreSQL extension available to the server binaries we use (its control file exists). */
export function checkExtension(name: string, sharedir: string, installHint: string): ToolCheck {
  const control = `${sharedir}/extension/${name}.control`;
  if (existsSync(control)) return { ok: true, path: control };
  return { ok: false, why: `PostgreSQL extension ${name} is not installed (${installHint})` };
}

/**
 * Decide whether a suite may run. Returns true to run; false to skip (after printing why).
 * Throws under PG2UNE_REQUIRE_ALL=1 so CI cannot pass by skipping.
 */
export function requireOrSkip(check: ToolCheck, suite: string): boolean {
  if (check.ok) return true;
  const message = `[pg2une tests] ${suite}: ${check.why}`;
  if (REQUIRE_ALL) throw new Error(`${message}; PG2UNE_REQUIRE_ALL=1 forbids skipping`);
  console.warn(`\n!!! SKIPPED ${message}\n`);
  return false;
}
