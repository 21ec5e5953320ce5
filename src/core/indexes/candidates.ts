/**
 * Columns → candidate indexes: one single-column btree per filtered, joined or sorted column,
 * then ordered two-column pairs of the columns one query uses on one table (the leading column
 * is one it filters or joins on). HypoPG judges them; this only proposes.
 *
 * @example
 *   candidateIndexes([{ table: orders, column: "status", clauses: ["where"] },
 *                     { table: orders, column: "created_at", clauses: ["order"] }], () => true, 6);
 *   // singles: orders(status), orders(created_at); pairs: orders(status, created_at)
 */
import { tableKey, type QualifiedTable } from "./identifiers";
import type { ColumnClause } from "./query-shape";
import type { TableColumn } from "./column-resolution";

export interface IndexCandidate {
  /** "schema.table(col1,col2)": one candidate, whichever query proposed it. */
  key: string;
  table: QualifiedTable;
  columns: string[];
}

export function candidateKey(table: QualifiedTable, columns: readonly string[]): string {
  return `${tableKey(table)}(${columns.join(",")})`;
}

export function makeCandidate(table: QualifiedTable, columns: readonly string[]): IndexCandidate {
  return { key: candidateKey(table, columns), table: { schema: table.schema, name: table.name }, columns: [...columns] };
}

export interface CandidateSet {
  singles: IndexCandidate[];
  pairs: IndexCandidate[];
  /** Columns used but not indexable with a plain btree (json, geometric types…). */
  notBtreeable: Array<{ table: QualifiedTable; column: string }>;
}

/** Filter and join columns lead; a column used only for ORDER BY comes last. */
const CLAUSE_RANK: Record<ColumnClause, number> = { where: 0, join: 1, order: 2 };

function rank(c: TableColumn): number {
  return Math.min(...c.clauses.map((cl) => CLAUSE_RANK[cl]));
}

/**
 * @param btreeable whether a column's type has a default btree operator class
 * @param maxColumnsPerTable cap on columns per table for pairs (n·(n-1) candidates)
 */
export function candidateIndexes(
  columns: readonly TableColumn[],
  btreeable: (table: QualifiedTable, column: string) => boolean,
  maxColumnsPerTable: number,
): CandidateSet {
  const singles: IndexCandidate[] = [];
  const pairs: IndexCandidate[] = [];
  const notBtreeable: CandidateSet["notBtreeable"] = [];
  const byTable = new Map<string, TableColumn[]>();
  for (const c of columns) {
    if (!btreeable(c.table, c.column)) {
      notBtreeable.push({ table: c.table, column: c.column });
      continue;
    }
    const list = byTable.get(tableKey(c.table)) ?? [];
    list.push(c);
    byTable.set(tableKey(c.table), list);
  }
  for (const list of byTable.values()) {
    const ordered = [...list].sort((a, b) => rank(a) - rank(b) || a.column.localeCompare(b.column)).slice(0, maxColumnsPerTable);
    for (const c of ordered) singles.push(makeCandidate(c.table, [c.column]));
    for (const lead of ordered) {
      if (rank(lead) === CLAUSE_RANK.order && !lead.clauses.includes("where")) continue;
      for (const second of ordered) {
        if (second.column === lead.column) continue;
        pairs.push(makeCandidate(lead.table, [lead.column, second.column]));
      }
    }
  }
  return { singles, pairs, notBtreeable };
}

/** Merges candidate lists from several queries, one entry per key, in a stable order. */
export function mergeCandidates(lists: ReadonlyArray<readonly IndexCandidate[]>): IndexCandidate[] {
  const byKey = new Map<string, IndexCandidate>();
  for (const list of lists) for (const c of list) if (!byKey.has(c.key)) byKey.set(c.key, c);
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}
