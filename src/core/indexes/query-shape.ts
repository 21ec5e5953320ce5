/**
 * What an index could help a query with: the tables it reads and the columns it filters, joins
 * and sorts on, taken from PostgreSQL's own parse tree (libpg_query's JSON, parsed on the runner).
 *
 * Pure: the tree goes in, a QueryShape comes out. Aliases and schema-qualified names are
 * resolved per SELECT scope (subqueries and correlated sub-selects see their parent scope); CTE
 * names and sub-selects in FROM are derived tables, never index targets. An unqualified column
 * with several tables in scope keeps the list of tables it may belong to; the catalog decides
 * later (`resolveColumns`).
 *
 * Parameters ($1) that are compared with a column are mapped to that column, so the runner can
 * plan the query with a representative value from pg_stats when there is no GENERIC_PLAN.
 *
 * @example
 *   const shape = queryShape(await parse("SELECT * FROM orders o WHERE o.customer_id = $1"));
 *   shape.relations;  // [{ schema: null, name: "orders" }]
 *   shape.columns;    // [{ column: "customer_id", clause: "where", candidates: [[0]] }]
 *   shape.parameters; // [{ number: 1, role: "compare", column: "customer_id", candidates: [[0]] }]
 */
import type { A_Expr, ColumnRef, JoinExpr, Node, ParseResult, RangeVar, SelectStmt, SortBy, WithClause } from "@pgsql/types";

export type ColumnClause = "where" | "join" | "order";

export interface RelationRef {
  /** As written (the parser already folded unquoted names to lower case); null = search_path. */
  schema: string | null;
  name: string;
}

/** One appearance of a relation in FROM: hints (pg_hint_plan) name relations by alias. */
export interface RelationOccurrence {
  relation: number;
  /** The alias, or the table name when there is none (what a hint must name). */
  refName: string;
}

export interface ColumnUse {
  column: string;
  clause: ColumnClause;
  /**
   * Where the column may live, innermost scope first: [[i]] when qualified; for an unqualified
   * column every base table of each enclosing scope (the first layer holding it wins).
   */
  candidates: number[][];
}

export type ParameterRole = "compare" | "limit" | "offset" | "other";

export interface ParameterUse {
  number: number;
  role: ParameterRole;
  /** The column a `compare` parameter is compared with. */
  column: string | null;
  candidates: number[][];
}

export type StatementKind = "select" | "insert" | "update" | "delete" | "other";

export interface QueryShape {
  kind: StatementKind;
  /** Distinct base relations (tables, views, matviews: the catalog tells which). */
  relations: RelationRef[];
  occurrences: RelationOccurrence[];
  columns: ColumnUse[];
  parameters: ParameterUse[];
  /** Highest $n in the statement (0 when none). */
  parameterCount: number;
  statements: number;
}

type ScopeEntry = { kind: "base"; relation: number } | { kind: "derived" };

interface Scope {
  parent: Scope | null;
  /** alias or bare table name → entry; "schema.table" too, for three-part column refs. */
  entries: Map<string, ScopeEntry>;
  bases: number[];
  ctes: Set<string>;
}

/** Walks every statement in a parse result. */
export function queryShape(tree: ParseResult): QueryShape {
  const walker = new ShapeWalker();
  const stmts = tree.stmts ?? [];
  let kind: StatementKind = "other";
  for (const raw of stmts) {
    if (!raw.stmt) continue;
    if (kind === "other") kind = statementKind(raw.stmt);
    walker.statement(raw.stmt, null);
  }
  return walker.result(kind, stmts.length);
}

function statementKind(node: Node): StatementKind {
  if ("SelectStmt" in node) return "select";
  if ("InsertStmt" in node) return "insert";
  if ("UpdateStmt" in node) return "update";
  if ("DeleteStmt" in node) return "delete";
  return "other";
}

class ShapeWalker {
  private relations: RelationRef[] = [];
  private occurrences: RelationOccurrence[] = [];
  private columns: ColumnUse[] = [];
  private params = new Map<number, ParameterUse>();
  private maxParam = 0;

  result(kind: StatementKind, statements: number): QueryShape {
    const parameters = [...this.params.values()].sort((a, b) => a.number - b.number);
    return {
      kind,
      relations: this.relations,
      occurrences: this.occurrences,
      columns: dedupeColumns(this.columns),
      parameters,
      parameterCount: this.maxParam,
      statements,
    };
  }

  statement(node: Node, parent: Scope | null): void {
    if ("SelectStmt" in node) this.select(node.SelectStmt, parent);
    else if ("InsertStmt" in node) {
      const ins = node.InsertStmt;
      const scope = this.scopeWithCtes(parent, ins.withClause);
      if (ins.selectStmt) this.statement(ins.selectStmt, scope);
      this.scanForNested(ins.returningClause, newScope(scope));
    } else if ("UpdateStmt" in node) {
      const upd = node.UpdateStmt;
      const scope = this.scopeWithCtes(parent, upd.withClause);
      const own = newScope(scope);
      if (upd.relation) this.addRangeVar(upd.relation, own);
      for (const item of upd.fromClause ?? []) this.fromItem(item, own);
      this.scanForNested(upd.targetList, own);
      if (upd.whereClause) this.predicate(upd.whereClause, own, "where");
    } else if ("DeleteStmt" in node) {
      const del = node.DeleteStmt;
      const scope = this.scopeWithCtes(parent, del.withClause);
      const own = newScope(scope);
      if (del.relation) this.addRangeVar(del.relation, own);
      for (const item of del.usingClause ?? []) this.fromItem(item, own);
      if (del.whereClause) this.predicate(del.whereClause, own, "where");
    } else if ("ExplainStmt" in node && node.ExplainStmt.query) {
      this.statement(node.ExplainStmt.query, parent);
    }
    // Anything else (DDL, utility) has nothing an index could serve.
  }

  private scopeWithCtes(parent: Scope | null, withClause: WithClause | undefined): Scope | null {
    if (!withClause?.ctes?.length) return parent;
    const scope = newScope(parent);
    for (const cte of withClause.ctes) {
      if ("CommonTableExpr" in cte && cte.CommonTableExpr.ctename) scope.ctes.add(cte.CommonTableExpr.ctename);
    }
    for (const cte of withClause.ctes) {
      if ("CommonTableExpr" in cte && cte.CommonTableExpr.ctequery) this.statement(cte.CommonTableExpr.ctequery, scope);
    }
    return scope;
  }

  private select(sel: SelectStmt, parent: Scope | null): void {
    const withScope = this.scopeWithCtes(parent, sel.withClause);
    if (sel.op && sel.op !== "SETOP_NONE") {
      if (sel.larg) this.select(sel.larg, withScope);
      if (sel.rarg) this.select(sel.rarg, withScope);
      this.limits(sel);
      return;
    }
    const scope = newScope(withScope);
    for (const item of sel.fromClause ?? []) this.fromItem(item, scope);
    if (sel.whereClause) this.predicate(sel.whereClause, scope, "where");
    for (const sort of sel.sortClause ?? []) {
      if ("SortBy" in sort) this.sortBy(sort.SortBy, scope);
    }
    this.scanForNested(sel.targetList, scope);
    this.scanForNested(sel.havingClause, scope);
    this.scanForNested(sel.groupClause, scope);
    this.scanForNested(sel.valuesLists, scope);
    this.limits(sel);
  }

  private limits(sel: SelectStmt): void {
    const limit = unwrap(sel.limitCount);
    if (limit && "ParamRef" in limit) this.param(limit.ParamRef.number, "limit", null, []);
    const offset = unwrap(sel.limitOffset);
    if (offset && "ParamRef" in offset) this.param(offset.ParamRef.number, "offset", null, []);
  }

  private sortBy(sort: SortBy, scope: Scope): void {
    const target = unwrap(sort.node);
    if (target && "ColumnRef" in target) this.columnUse(target.ColumnRef, scope, "order");
    else this.scanForNested(sort.node, scope);
  }

  /** Registers a FROM item; returns the base relations it brought in (for USING joins). */
  private fromItem(item: Node, scope: Scope): number[] {
    if ("RangeVar" in item) return this.addRangeVar(item.RangeVar, scope);
    if ("JoinExpr" in item) return this.join(item.JoinExpr, scope);
    if ("RangeSubselect" in item) {
      const sub = item.RangeSubselect;
      // A LATERAL sub-select sees the FROM items before it; a plain one sees only outer scopes.
      if (sub.subquery) this.statement(sub.subquery, sub.lateral ? scope : scope.parent);
      if (sub.alias?.aliasname) scope.entries.set(sub.alias.aliasname, { kind: "derived" });
      return [];
    }
    if ("RangeFunction" in item) {
      const fn = item.RangeFunction;
      if (fn.alias?.aliasname) scope.entries.set(fn.alias.aliasname, { kind: "derived" });
      this.scanForNested(fn.functions, scope);
      return [];
    }
    this.scanForNested(item, scope);
    return [];
  }

  private join(join: JoinExpr, scope: Scope): number[] {
    const left = join.larg ? this.fromItem(join.larg, scope) : [];
    const right = join.rarg ? this.fromItem(join.rarg, scope) : [];
    if (join.quals) this.predicate(join.quals, scope, "join");
    for (const using of join.usingClause ?? []) {
      if (!("String" in using) || !using.String.sval) continue;
      // USING (col): the column exists on both sides; each side gets its own use.
      if (left.length) this.columns.push({ column: using.String.sval, clause: "join", candidates: [left] });
      if (right.length) this.columns.push({ column: using.String.sval, clause: "join", candidates: [right] });
    }
    if (join.alias?.aliasname) scope.entries.set(join.alias.aliasname, { kind: "derived" });
    return [...left, ...right];
  }

  private addRangeVar(rv: RangeVar, scope: Scope): number[] {
    const name = rv.relname;
    if (!name) return [];
    const schema = rv.schemaname ?? null;
    const refName = rv.alias?.aliasname ?? name;
    if (!schema && isCte(scope, name)) {
      scope.entries.set(refName, { kind: "derived" });
      return [];
    }
    let index = this.relations.findIndex((r) => r.name === name && r.schema === schema);
    if (index < 0) {
      index = this.relations.length;
      this.relations.push({ schema, name });
    }
    this.occurrences.push({ relation: index, refName });
    scope.entries.set(refName, { kind: "base", relation: index });
    if (!rv.alias?.aliasname && schema) scope.entries.set(`${schema}.${name}`, { kind: "base", relation: index });
    scope.bases.push(index);
    return [index];
  }

  /** Collects column uses from a boolean condition (WHERE, ON, HAVING-free). */
  private predicate(expr: Node, scope: Scope, clause: ColumnClause): void {
    const node = unwrap(expr);
    if (!node) return;
    if ("BoolExpr" in node) {
      for (const arg of node.BoolExpr.args ?? []) this.predicate(arg, scope, clause);
      return;
    }
    if ("A_Expr" in node) {
      this.comparison(node.A_Expr, scope, clause);
      return;
    }
    if ("NullTest" in node) {
      const arg = unwrap(node.NullTest.arg);
      if (arg && "ColumnRef" in arg) this.columnUse(arg.ColumnRef, scope, clause);
      else this.scanForNested(node.NullTest.arg, scope);
      return;
    }
    if ("BooleanTest" in node) {
      const arg = unwrap(node.BooleanTest.arg);
      if (arg && "ColumnRef" in arg) this.columnUse(arg.ColumnRef, scope, clause);
      return;
    }
    if ("ColumnRef" in node) {
      // WHERE active: a bare boolean column.
      this.columnUse(node.ColumnRef, scope, clause);
      return;
    }
    if ("SubLink" in node) {
      const link = node.SubLink;
      const test = unwrap(link.testexpr);
      if (test && "ColumnRef" in test) this.columnUse(test.ColumnRef, scope, clause);
      if (link.subselect) this.statement(link.subselect, scope);
      return;
    }
    this.scanForNested(node, scope);
  }

  private comparison(expr: A_Expr, scope: Scope, clause: ColumnClause): void {
    const left = operands(expr.lexpr);
    const right = operands(expr.rexpr);
    const leftCols = left.filter(isColumnRef);
    const rightCols = right.filter(isColumnRef);
    // a.x = b.y in WHERE is a join condition in all but name.
    const effective: ColumnClause = leftCols.length && rightCols.length && clause === "where" ? "join" : clause;
    for (const c of [...leftCols, ...rightCols]) this.columnUse(c.ColumnRef, scope, effective);
    const paramSide = (side: Node[], otherCols: Array<{ ColumnRef: ColumnRef }>) => {
      const target = otherCols.length === 1 ? this.resolve(otherCols[0]!.ColumnRef, scope) : null;
      for (const op of side) {
        if ("ParamRef" in op) {
          if (target) this.param(op.ParamRef.number, "compare", target.column, target.candidates);
          else this.param(op.ParamRef.number, "other", null, []);
        }
      }
    };
    paramSide(right, leftCols);
    paramSide(left, rightCols);
    // Sub-selects and parameters nested deeper (lower(x) = $1, x = (SELECT …)).
    for (const side of [expr.lexpr, expr.rexpr]) this.scanForNested(side, scope);
  }

  private param(n: number | undefined, role: ParameterRole, column: string | null, candidates: number[][]): void {
    if (!n) return;
    this.maxParam = Math.max(this.maxParam, n);
    const existing = this.params.get(n);
    // A column mapping beats "other": the same $n may also appear elsewhere.
    if (existing && (existing.role === "compare" || role === "other")) return;
    this.params.set(n, { number: n, role, column, candidates });
  }

  private columnUse(ref: ColumnRef, scope: Scope, clause: ColumnClause): void {
    const resolved = this.resolve(ref, scope);
    if (resolved) this.columns.push({ column: resolved.column, clause, candidates: resolved.candidates });
  }

  private resolve(ref: ColumnRef, scope: Scope): { column: string; candidates: number[][] } | null {
    const fields = (ref.fields ?? []).map((f) => ("String" in f ? (f.String.sval ?? null) : null));
    if (fields.length === 0 || fields.some((f) => f === null)) return null; // A_Star or odd shapes
    const names = fields as string[];
    const column = names[names.length - 1]!;
    if (names.length === 1) {
      const layers: number[][] = [];
      for (let s: Scope | null = scope; s; s = s.parent) if (s.bases.length) layers.push([...s.bases]);
      return layers.length ? { column, candidates: layers } : null;
    }
    const qualifier = names.length === 2 ? names[0]! : `${names[names.length - 3]}.${names[names.length - 2]}`;
    for (let s: Scope | null = scope; s; s = s.parent) {
      const entry = s.entries.get(qualifier);
      if (entry) return entry.kind === "base" ? { column, candidates: [[entry.relation]] } : null;
    }
    return null;
  }

  /** Finds sub-selects and parameters anywhere below a node that is not a predicate. */
  private scanForNested(value: unknown, scope: Scope): void {
    if (value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      for (const v of value) this.scanForNested(v, scope);
      return;
    }
    const record = value as Record<string, unknown>;
    if ("SubLink" in record) {
      const link = record.SubLink as { subselect?: Node; testexpr?: Node };
      if (link.subselect) this.statement(link.subselect, scope);
      this.scanForNested(link.testexpr, scope);
      return;
    }
    if ("ParamRef" in record) {
      this.param((record.ParamRef as { number?: number }).number, "other", null, []);
      return;
    }
    if ("SelectStmt" in record) {
      this.statement(record as Node, scope);
      return;
    }
    for (const v of Object.values(record)) this.scanForNested(v, scope);
  }
}

function newScope(parent: Scope | null): Scope {
  return { parent, entries: new Map(), bases: [], ctes: new Set(parent?.ctes ?? []) };
}

function isCte(scope: Scope, name: string): boolean {
  return scope.ctes.has(name);
}

/** Strips casts and collations: `col::text = $1::text` still compares col with $1. */
function unwrap(node: Node | undefined): Node | undefined {
  let n = node;
  for (;;) {
    if (!n) return n;
    if ("TypeCast" in n) n = n.TypeCast.arg;
    else if ("CollateClause" in n) n = n.CollateClause.arg;
    else return n;
  }
}

/** The operands on one side of an A_Expr: a single node, or the list of IN (...) / BETWEEN. */
function operands(node: Node | undefined): Node[] {
  const n = unwrap(node);
  if (!n) return [];
  if ("List" in n) return (n.List.items ?? []).map(unwrap).filter((x): x is Node => x !== undefined);
  return [n];
}

function isColumnRef(node: Node): node is { ColumnRef: ColumnRef } {
  return "ColumnRef" in node;
}

function dedupeColumns(uses: ColumnUse[]): ColumnUse[] {
  const seen = new Set<string>();
  const out: ColumnUse[] = [];
  for (const u of uses) {
    const key = `${u.column}|${u.clause}|${JSON.stringify(u.candidates)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(u);
  }
  return out;
}
