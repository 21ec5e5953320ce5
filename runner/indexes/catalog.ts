/**
 * What the database says about the tables a query names: which relation a name resolves to on
 * this search_path, its columns (and whether a plain btree can index them), its indexes, and how
 * much it is written compared with how often it is read.
 */
import type { ExistingIndex, QualifiedTable, RelationRef } from "../../src/core/indexes";
import type { Session } from "./session";

export interface ResolvedRelation {
  oid: number;
  table: QualifiedTable;
  /** r table, p partitioned table, m materialized view, v view, f foreign table … */
  relkind: string;
}

export interface CatalogColumn {
  name: string;
  type: string;
  btree: boolean;
}

export interface TableActivity {
  oid: number;
  table: QualifiedTable;
  rowsWritten: number;
  scans: number;
  analyzed: boolean;
  liveRows: number;
}

/** Resolves each name as the server would (search_path for unqualified names); null if absent. */
export async function resolveRelations(s: Session, refs: readonly RelationRef[]): Promise<Array<ResolvedRelation | null>> {
  if (refs.length === 0) return [];
  const { rows } = await s.query<{ i: number; oid: number | null; nspname: string | null; relname: string | null; relkind: string | null }>(
    `select r.i, c.oid::int as oid, n.nspname, c.relname, c.relkind::text as relkind
     from unnest($1::text[], $2::text[]) with ordinality as r(schema, name, i)
     left join pg_class c on c.oid = to_regclass(case when r.schema is null then quote_ident(r.name)
                                                      else quote_ident(r.schema) || '.' || quote_ident(r.name) end)
     left join pg_namespace n on n.oid = c.relnamespace
     order by r.i`,
    [refs.map((r) => r.schema), refs.map((r) => r.name)],
  );
  return rows.map((r) =>
    r.oid === null || r.nspname === null || r.relname === null || r.relkind === null
      ? null
      : { oid: r.oid, table: { schema: r.nspname, name: r.relname }, relkind: r.relkind },
  );
}

export function isSystemSchema(schema: string): boolean {
  return schema === "pg_catalog" || schema === "information_schema" || schema.startsWith("pg_toast");
}

export async function tableColumns(s: Session, oids: readonly number[]): Promise<Map<number, CatalogColumn[]>> {
  const out = new Map<number, CatalogColumn[]>();
  if (oids.length === 0) return out;
  // A type is btree-indexable when a default btree operator class accepts it directly, through
  // a binary-coercible cast (varchar → text), or as an array/enum; json/jsonb/xml never help.
  const { rows } = await s.query<{ oid: number; name: string; type: string; btree: boolean }>(
    `select a.attrelid::int as oid, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
            t.typname not in ('json', 'jsonb', 'xml') and exists (
              select 1 from pg_opclass oc join pg_am am on am.oid = oc.opcmethod
              where am.amname = 'btree' and oc.opcdefault
                and (oc.opcintype = a.atttypid
                     or oc.opcintype = t.typbasetype
                     or exists (select 1 from pg_cast c where c.castsource = a.atttypid and c.casttarget = oc.opcintype and c.castmethod = 'b')
                     or (oc.opcintype = 'anyarray'::regtype and t.typcategory = 'A')
                     or (oc.opcintype = 'anyenum'::regtype and t.typtype = 'e'))) as btree
     from pg_attribute a join pg_type t on t.oid = a.atttypid
     where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
     order by a.attrelid, a.attnum`,
    [[...oids]],
  );
  for (const r of rows) {
    const list = out.get(r.oid) ?? [];
    list.push({ name: r.name, type: r.type, btree: r.btree });
    out.set(r.oid, list);
  }
  return out;
}

export async function existingIndexes(s: Session, oids: readonly number[]): Promise<ExistingIndex[]> {
  if (oids.length === 0) return [];
  const { rows } = await s.query<{
    schema: string; name: string; table_schema: string; table_name: string; columns: Array<string | null>;
    method: string; valid: boolean; partial: boolean; unique: boolean;
  }>(
    `select n.nspname as schema, ic.relname as name, tn.nspname as table_schema, tc.relname as table_name,
            array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
                  left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum and k.attnum > 0
                  where k.ord <= i.indnkeyatts order by k.ord) as columns,
            am.amname as method, i.indisvalid as valid, i.indpred is not null as partial, i.indisunique as unique
     from pg_index i
     join pg_class ic on ic.oid = i.indexrelid join pg_namespace n on n.oid = ic.relnamespace
     join pg_class tc on tc.oid = i.indrelid join pg_namespace tn on tn.oid = tc.relnamespace
     join pg_am am on am.oid = ic.relam
     where i.indrelid = any($1::oid[])`,
    [[...oids]],
  );
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    table: { schema: r.table_schema, name: r.table_name },
    columns: r.columns,
    method: r.method,
    valid: r.valid,
    partial: r.partial,
    unique: r.unique,
  }));
}

/** Rows written vs scans since the statistics were last reset (pg_stat_user_tables). */
export async function tableActivity(s: Session, oids: readonly number[]): Promise<TableActivity[]> {
  if (oids.length === 0) return [];
  const { rows } = await s.query<{ oid: number; schema: string; name: string; written: string; scans: string; analyzed: boolean; live: string }>(
    `select relid::int as oid, schemaname as schema, relname as name,
            (n_tup_ins + n_tup_upd + n_tup_del)::text as written,
            (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::text as scans,
            exists (select 1 from pg_stats st where st.schemaname = u.schemaname and st.tablename = u.relname) as analyzed,
            n_live_tup::text as live
     from pg_stat_user_tables u where relid = any($1::oid[])`,
    [[...oids]],
  );
  return rows.map((r) => ({
    oid: r.oid,
    table: { schema: r.schema, name: r.name },
    rowsWritten: Number(r.written),
    scans: Number(r.scans),
    analyzed: r.analyzed,
    liveRows: Number(r.live),
  }));
}
