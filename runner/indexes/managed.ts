/**
 * The indexes pg2une made on a target: list them, drop them. pg2une only ever drops indexes
 * whose name carries its prefix (pg2une_…), and always CONCURRENTLY, so writers never block.
 */
import type { z } from "zod";
import {
  DropIndexPayloadSchema,
  MANAGED_INDEX_PREFIX,
  dropIndexDdl,
  type DropIndexPayload,
  type DropIndexResultSchema,
  type ManagedIndexSchema,
} from "../../src/core/indexes";
import { withSession, type IndexTarget, type Session } from "./session";

export type ManagedIndex = z.infer<typeof ManagedIndexSchema>;
export type DropIndexResult = z.infer<typeof DropIndexResultSchema>;

export async function listManagedIndexes(s: Session): Promise<ManagedIndex[]> {
  const { rows } = await s.query<{ schema: string; name: string; table: string; definition: string; valid: boolean; size: string }>(
    `select n.nspname as schema, c.relname as name, t.relname as table, pg_get_indexdef(c.oid) as definition,
            i.indisvalid as valid, pg_relation_size(c.oid)::text as size
     from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
     join pg_class t on t.oid = i.indrelid
     where starts_with(c.relname, $1)
     order by 1, 2`,
    [MANAGED_INDEX_PREFIX],
  );
  return rows.map((r) => ({ schema: r.schema, name: r.name, table: r.table, definition: r.definition, valid: r.valid, sizeBytes: Number(r.size) }));
}

/** lock_timeout for the drop; DROP INDEX CONCURRENTLY cannot run inside a transaction block. */
export async function dropManagedIndex(s: Session, index: { schema: string; name: string }, lockTimeoutMs: number): Promise<void> {
  if (!index.name.startsWith(MANAGED_INDEX_PREFIX)) throw new Error(`refusing to drop ${index.schema}.${index.name}: not a pg2une index`);
  await s.query("select set_config('lock_timeout', $1, false)", [String(lockTimeoutMs)]);
  await s.query(dropIndexDdl(index));
}

/** Runner command drop_index: the named pg2une indexes, or all of them. */
export async function dropIndexes(target: IndexTarget, payloadInput: DropIndexPayload, lockTimeoutMs = 5_000): Promise<DropIndexResult> {
  const payload = DropIndexPayloadSchema.parse(payloadInput);
  return withSession(target, async (s) => {
    const present = await listManagedIndexes(s);
    const wanted = "all" in payload ? present.map((p) => ({ schema: p.schema, name: p.name })) : payload.indexes;
    const result: DropIndexResult = { dropped: [], notFound: [] };
    for (const w of wanted) {
      if (!present.some((p) => p.schema === w.schema && p.name === w.name)) {
        result.notFound.push(w);
        continue;
      }
      await dropManagedIndex(s, w, lockTimeoutMs);
      result.dropped.push(w);
    }
    return result;
  });
}
