/**
 * Places each column a query uses on a real table, with the catalog's help: the parse tree says
 * "customer_id, in a scope with orders and customers"; the catalog says which of them has it.
 *
 * @example
 *   resolveColumns(shape, [{ table: { schema: "public", name: "orders" }, columns: new Set(["id", "customer_id"]) }]);
 *   // → { columns: [{ table: {schema: "public", name: "orders"}, column: "customer_id", clauses: ["where"] }], … }
 */
import { tableKey, type QualifiedTable } from "./identifiers";
import type { ColumnClause, ParameterRole, QueryShape } from "./query-shape";

/** What the catalog knows about shape.relations[i]: null when it is not an indexable table. */
export type RelationCatalog = ReadonlyArray<{ table: QualifiedTable; columns: ReadonlySet<string> } | null>;

export interface TableColumn {
  table: QualifiedTable;
  column: string;
  clauses: ColumnClause[];
}

export interface ResolvedParameter {
  number: number;
  role: ParameterRole;
  table: QualifiedTable | null;
  column: string | null;
}

export interface ResolvedColumns {
  columns: TableColumn[];
  parameters: ResolvedParameter[];
  /** Columns that fit no table or more than one (said in the report, never guessed). */
  unresolved: Array<{ column: string; why: "no table has it" | "ambiguous" }>;
}

function place(candidates: number[][], column: string, catalog: RelationCatalog): number | "none" | "ambiguous" {
  for (const layer of candidates) {
    const holders = [...new Set(layer)].filter((i) => catalog[i]?.columns.has(column));
    if (holders.length === 1) return holders[0]!;
    if (holders.length > 1) {
      // The same table twice (self-join, unqualified) is still one table.
      const keys = new Set(holders.map((i) => tableKey(catalog[i]!.table)));
      return keys.size === 1 ? holders[0]! : "ambiguous";
    }
  }
  return "none";
}

export function resolveColumns(shape: QueryShape, catalog: RelationCatalog): ResolvedColumns {
  const byKey = new Map<string, TableColumn>();
  const unresolved: ResolvedColumns["unresolved"] = [];
  for (const use of shape.columns) {
    const at = place(use.candidates, use.column, catalog);
    if (at === "none" || at === "ambiguous") {
      // A column of a derived table (CTE, sub-select) lands here too: nothing to index on it.
      if (at === "ambiguous" || use.candidates.some((layer) => layer.some((i) => catalog[i] !== null))) {
        unresolved.push({ column: use.column, why: at === "ambiguous" ? "ambiguous" : "no table has it" });
      }
      continue;
    }
    const table = catalog[at]!.table;
    const key = `${tableKey(table)}|${use.column}`;
    const entry = byKey.get(key) ?? { table, column: use.column, clauses: [] };
    if (!entry.clauses.includes(use.clause)) entry.clauses.push(use.clause);
    byKey.set(key, entry);
  }
  const parameters = shape.parameters.map((p): ResolvedParameter => {
    if (p.role !== "compare" || !p.column) return { number: p.number, role: p.role, table: null, column: null };
    const at = place(p.candidates, p.column, catalog);
    if (typeof at !== "number") return { number: p.number, role: "other", table: null, column: null };
    return { number: p.number, role: p.role, table: catalog[at]!.table, column: p.column };
  });
  return { columns: [...byKey.values()], parameters, unresolved: dedupe(unresolved) };
}

function dedupe<T>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = JSON.stringify(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
