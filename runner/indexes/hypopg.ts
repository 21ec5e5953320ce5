/**
 * HypoPG: hypothetical indexes the planner sees but nobody builds. They exist only in the
 * current backend, so all what-if work runs on one session.
 */
import { hypotheticalIndexDdl, type IndexCandidate } from "../../src/core/indexes";
import { IndexAdvisorError } from "./errors";
import { errorMessage, type Session } from "./session";

export interface HypopgStatus {
  version: string;
  createdNow: boolean;
}

/** The message for a server without HypoPG: what to install, for this major version. */
export function hypopgMissingMessage(serverVersionNum: number): string {
  const major = Math.floor(serverVersionNum / 10_000);
  return (
    `HypoPG is not installed on this PostgreSQL ${major} server, and pg2une needs it to cost hypothetical indexes. ` +
    `Install the package postgresql-${major}-hypopg (Debian/Ubuntu; elsewhere build https://github.com/HypoPG/hypopg), ` +
    `then run CREATE EXTENSION hypopg; in the target database. Nothing was created.`
  );
}

/**
 * Makes sure hypopg is usable in this database: already installed, or available and creatable
 * by this role. Otherwise throws an IndexAdvisorError that names the package or the privilege.
 */
export async function ensureHypopg(s: Session, serverVersionNum: number): Promise<HypopgStatus> {
  const { rows } = await s.query<{ default_version: string | null; installed_version: string | null }>(
    "select default_version, installed_version from pg_available_extensions where name = 'hypopg'",
  );
  const row = rows[0];
  if (!row) throw new IndexAdvisorError("hypopg_missing", hypopgMissingMessage(serverVersionNum));
  if (row.installed_version) return { version: row.installed_version, createdNow: false };
  try {
    await s.query("create extension if not exists hypopg");
  } catch (err) {
    const { rows: who } = await s.query<{ db: string; role: string }>("select current_database() as db, current_user as role");
    throw new IndexAdvisorError(
      "hypopg_not_permitted",
      `HypoPG is available on the server but not installed in database ${who[0]!.db}, and role ${who[0]!.role} cannot install it ` +
        `(${errorMessage(err)}). Ask a superuser to run CREATE EXTENSION hypopg; in ${who[0]!.db}. Nothing was created.`,
    );
  }
  const { rows: after } = await s.query<{ v: string }>("select extversion as v from pg_extension where extname = 'hypopg'");
  return { version: after[0]!.v, createdNow: true };
}

export interface HypotheticalIndex {
  oid: number;
  /** The name EXPLAIN shows, e.g. "<16412>btree_orders_customer_id". */
  name: string;
  candidate: IndexCandidate;
}

export async function createHypothetical(s: Session, candidate: IndexCandidate): Promise<HypotheticalIndex> {
  const ddl = hypotheticalIndexDdl({ schema: candidate.table.schema, table: candidate.table.name, columns: candidate.columns });
  const { rows } = await s.query<{ indexrelid: number; indexname: string }>("select indexrelid::int as indexrelid, indexname from hypopg_create_index($1)", [ddl]);
  return { oid: rows[0]!.indexrelid, name: rows[0]!.indexname, candidate };
}

export async function dropHypothetical(s: Session, index: HypotheticalIndex): Promise<void> {
  await s.query("select hypopg_drop_index($1)", [index.oid]);
}

export async function resetHypothetical(s: Session): Promise<void> {
  await s.query("select hypopg_reset()");
}

export async function hypotheticalSize(s: Session, index: HypotheticalIndex): Promise<number | null> {
  try {
    const { rows } = await s.query<{ size: string }>("select hypopg_relation_size($1)::text as size", [index.oid]);
    return Number(rows[0]!.size);
  } catch {
    return null; // older HypoPG without size estimates
  }
}
