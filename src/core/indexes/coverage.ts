/**
 * Is a candidate already served by an index the table has? A btree whose leading key columns are
 * the candidate's columns covers it (an index on (a, b) serves a query on a). Partial, invalid,
 * expression-led and non-btree indexes cover nothing.
 *
 * @example
 *   coveringIndex(makeCandidate(orders, ["customer_id"]), [{ name: "orders_cust_created", columns: ["customer_id", "created_at"], … }]);
 *   // → the orders_cust_created index
 */
import { tableKey, type QualifiedTable } from "./identifiers";
import type { IndexCandidate } from "./candidates";

export interface ExistingIndex {
  schema: string;
  name: string;
  table: QualifiedTable;
  /** Key columns in order; null marks an expression. */
  columns: Array<string | null>;
  method: string;
  valid: boolean;
  partial: boolean;
  unique: boolean;
}

export function coveringIndex(candidate: IndexCandidate, existing: readonly ExistingIndex[]): ExistingIndex | null {
  const key = tableKey(candidate.table);
  for (const index of existing) {
    if (tableKey(index.table) !== key) continue;
    if (index.method !== "btree" || !index.valid || index.partial) continue;
    if (index.columns.length < candidate.columns.length) continue;
    if (candidate.columns.every((col, i) => index.columns[i] === col)) return index;
  }
  return null;
}
