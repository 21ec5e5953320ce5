/**
 * Index advice, the pure part: from parse trees and what-if costs to the indexes worth building.
 * The story (runner/indexes): collect queries → parse → candidates → what-if costing → choose →
 * apply → measure → keep or drop. Everything here decides; nothing here does I/O.
 *
 * @example
 *   const shape = queryShape(parseTree);
 *   const cols = resolveColumns(shape, catalog);
 *   const { singles, pairs } = candidateIndexes(cols.columns, btreeable, t.maxColumnsPerTable);
 *   const selection = selectIndexes(costings, [...singles, ...pairs], t);
 */
export * from "./identifiers";
export * from "./thresholds";
export * from "./query-shape";
export * from "./column-resolution";
export * from "./candidates";
export * from "./coverage";
export * from "./selection";
export * from "./measurement";
export * from "./hints";
export * from "./schemas";
