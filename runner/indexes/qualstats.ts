/**
 * pg_qualstats, when installed: the predicates the executor really evaluated, per query and
 * column. It sees through views and functions where the parse tree cannot, so its columns join
 * the parser's as candidates (marked source "pg_qualstats").
 */
import type { QualifiedTable } from "../../src/core/indexes";
import { isPreloaded, type Session } from "./session";

export interface QualstatsColumn {
  queryId: string;
  oid: number;
  table: QualifiedTable;
  column: string;
}

export interface QualstatsReading {
  used: boolean;
  note: string;
  columns: QualstatsColumn[];
}

export async function readQualstats(s: Session): Promise<QualstatsReading> {
  const { rows } = await s.query<{ installed: boolean }>("select exists (select 1 from pg_extension where extname = 'pg_qualstats') as installed");
  if (!rows[0]!.installed) {
    return { used: false, note: "pg_qualstats is not installed (optional: it adds the predicates the executor evaluated, seeing through views)", columns: [] };
  }
  const loaded = await isPreloaded(s, "pg_qualstats");
  if (loaded === false) {
    return { used: false, note: "pg_qualstats is installed but not in shared_preload_libraries: it collects nothing", columns: [] };
  }
  // Both sides of a column = column predicate (joins) count; constants sit on the right.
  const { rows: quals } = await s.query<{ query_id: string; oid: number; schema: string; name: string; column: string }>(
    `with q as (
       select queryid, lrelid as relid, lattnum as attnum from pg_qualstats
       where dbid = (select oid from pg_database where datname = current_database()) and lrelid is not null
       union
       select queryid, rrelid, rattnum from pg_qualstats
       where dbid = (select oid from pg_database where datname = current_database()) and rrelid is not null
     )
     select distinct q.queryid::text as query_id, c.oid::int as oid, n.nspname as schema, c.relname as name, a.attname as column
     from q join pg_class c on c.oid = q.relid join pg_namespace n on n.oid = c.relnamespace
     join pg_attribute a on a.attrelid = q.relid and a.attnum = q.attnum
     where q.queryid is not null and n.nspname not in ('pg_catalog', 'information_schema')`,
  );
  return {
    used: true,
    note: `pg_qualstats: ${quals.length} predicate column(s) read`,
    columns: quals.map((q) => ({ queryId: q.query_id, oid: q.oid, table: { schema: q.schema, name: q.name }, column: q.column })),
  };
}
