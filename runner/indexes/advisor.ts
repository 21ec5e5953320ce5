/**
 * The index advisor (runner command hypo_indexes), read top to bottom like the story:
 *
 *   collect queries (pg_stat_statements) → parse (libpg_query) → find columns per table
 *   (+ pg_qualstats) → candidates → what-if costing (HypoPG, one session, one transaction)
 *   → choose (Dexter's 50 % rule, greedy cover) → report (DDL, costs, sizes, write load, hints)
 *
 * It creates nothing on the target but the hypopg extension when it is missing and allowed.
 * Applying is index-creator.ts.
 *
 * @example
 *   const advice = await adviseIndexes("postgres://…/app", { thresholds: { minCalls: 50 } });
 *   for (const r of advice.recommendations) console.log(r.ddl, r.queries[0]?.costBefore, "→", r.queries[0]?.costAfter);
 */
import {
  HypoIndexesPayloadSchema,
  IndexAdvisorThresholdsSchema,
  candidateIndexes,
  coveringIndex,
  createIndexDdl,
  indexNameFor,
  mergeCandidates,
  resolveColumns,
  selectIndexes,
  tableKey,
  type Advice,
  type HypoIndexesPayload,
  type IndexAdvisorThresholds,
  type IndexCandidate,
  type QualifiedTable,
  type QueryAdvice,
  type QueryCosting,
  type QueryShape,
  type Recommendation,
  type RelationCatalog,
  type ResolvedParameter,
  type TableColumn,
} from "../../src/core/indexes";
import { existingIndexes, isSystemSchema, resolveRelations, tableActivity, tableColumns, type CatalogColumn } from "./catalog";
import { collectQueries, requirePgStatStatements, type CollectedQuery } from "./collector";
import { hintPlanPresence, tryHints, type HintAdvice } from "./hint-planner";
import { createHypothetical, dropHypothetical, ensureHypopg, hypotheticalSize, resetHypothetical, type HypotheticalIndex } from "./hypopg";
import { parseQuery } from "./parser";
import { deallocate, planCost, prepareQuery, type PreparedQuery } from "./planner";
import { readQualstats } from "./qualstats";
import { errorMessage, serverVersionNum, withSession, type IndexTarget, type Session } from "./session";

export type AdvisorLog = (line: string) => void;

/** Relation kinds HypoPG can put a hypothetical btree on. */
const INDEXABLE_RELKINDS = new Set(["r", "m"]);
const RELKIND_NAMES: Record<string, string> = { v: "a view", p: "a partitioned table", f: "a foreign table", S: "a sequence" };

/** One collected query on its way through the pipeline. */
interface WorkItem {
  collected: CollectedQuery;
  advice: QueryAdvice;
  shape: QueryShape | null;
  tables: Map<string, QualifiedTable>;
  columns: Array<TableColumn & { source: "parser" | "pg_qualstats" }>;
  resolvedParameters: ResolvedParameter[];
  /** Reads only system catalogs or extension views: not workload, left out of the report. */
  systemOnly: boolean;
  prepared: PreparedQuery | null;
  initialCost: number | null;
}

/** What this run learned from the catalog, keyed by table oid and by "schema.table". */
interface CatalogCache {
  columns: Map<number, CatalogColumn[]>;
  oidByTable: Map<string, number>;
}

export async function adviseIndexes(target: IndexTarget, payloadInput: HypoIndexesPayload = {}, log: AdvisorLog = () => undefined): Promise<Advice> {
  const payload = HypoIndexesPayloadSchema.parse(payloadInput);
  const t = IndexAdvisorThresholdsSchema.parse(payload.thresholds);
  return withSession(target, async (s) => {
    const version = await serverVersionNum(s);
    const { rows: dbRows } = await s.query<{ db: string }>("select current_database() as db");
    await requirePgStatStatements(s);
    const hypopg = await ensureHypopg(s, version); // throws, naming the package, before anything else
    if (hypopg.createdNow) log(`Created extension hypopg ${hypopg.version}`);
    const qualstats = await readQualstats(s);
    log(qualstats.note);
    const hintPlan = await hintPlanPresence(s);

    const collected = await collectQueries(s, t, payload.queryIds);
    log(`Processing ${collected.length} statements from pg_stat_statements`);
    const warnings: string[] = [];
    const items = collected.map(newWorkItem);

    await s.query("BEGIN");
    try {
      await s.query("select set_config('statement_timeout', $1, true), set_config('plan_cache_mode', 'force_custom_plan', true)", [String(t.explainTimeoutMs)]);
      await resetHypothetical(s);
      const cache: CatalogCache = { columns: new Map(), oidByTable: new Map() };
      for (const item of items) await understand(s, item, cache, qualstats.columns);
      for (const item of items) await costInitially(s, item, version, t);

      const costable = items.filter((i) => i.initialCost !== null && i.initialCost >= t.minInitialCost && i.columns.length > 0);
      const btreeable = (table: QualifiedTable, column: string) => isBtreeable(cache, table, column);
      const perQuery = costable.map((i) => candidateIndexes(i.columns, btreeable, t.maxColumnsPerTable));
      const proposedBy = new Map(costable.map((i, n) => [i.collected.queryId, [...perQuery[n]!.singles, ...perQuery[n]!.pairs]]));
      let candidates = mergeCandidates(perQuery.flatMap((c) => [c.singles, c.pairs]));

      // Write load: skip or flag tables written far more than they are read.
      const tableOids = new Map([...new Set(candidates.map((c) => tableKey(c.table)))].map((k) => [k, cache.oidByTable.get(k)!]));
      const activity = await tableActivity(s, [...tableOids.values()]);
      const writeHeavy = new Map<string, { ratio: number; warning: string }>();
      const skippedTables: Advice["skippedTables"] = [];
      for (const a of activity) {
        const key = tableKey(a.table);
        if (!a.analyzed) warnings.push(`${key} has never been analyzed: planner costs for it are guesses (run ANALYZE ${key})`);
        const ratio = a.rowsWritten / Math.max(1, a.scans);
        if (ratio <= t.writeHeavyRatio) continue;
        const why = `write-heavy: ${a.rowsWritten} rows written vs ${a.scans} scans since the statistics reset (${ratio.toFixed(1)} per scan > writeHeavyRatio ${t.writeHeavyRatio})`;
        if (t.writeHeavyPolicy === "skip") {
          skippedTables.push({ table: key, reason: `${why}; set writeHeavyPolicy=warn to advise anyway` });
          log(`Skipping ${key}: ${why}`);
        } else writeHeavy.set(key, { ratio, warning: `${why}: every index slows its writes` });
      }
      const skipped = new Set(skippedTables.map((x) => x.table));
      candidates = candidates.filter((c) => !skipped.has(tableKey(c.table)));

      // Existing btrees that already lead with a candidate's columns make it pointless.
      const existing = await existingIndexes(s, [...tableOids.values()]);
      const covered: Advice["covered"] = [];
      candidates = candidates.filter((c) => {
        const by = coveringIndex(c, existing);
        if (by) covered.push({ candidate: c.key, existingIndex: `${by.schema}.${by.name}` });
        return !by;
      });

      // What-if: each candidate alone, against every query it could serve.
      const costings = new Map<string, QueryCosting>(
        costable.map((i) => [i.collected.queryId, { queryId: i.collected.queryId, weight: i.collected.calls, initialCost: i.initialCost!, withIndex: [] }]),
      );
      const singles = candidates.filter((c) => c.columns.length === 1);
      const pairs = candidates.filter((c) => c.columns.length > 1);
      log(`Costing ${singles.length} single-column and ${pairs.length} two-column hypothetical indexes`);
      for (const candidate of [...singles, ...pairs]) {
        const targets = costable.filter((i) => servesTable(i, candidate) && (candidate.columns.length === 1 || usesColumn(i, candidate)));
        if (targets.length === 0) continue;
        const hypo = await createHypothetical(s, candidate);
        try {
          for (const item of targets) {
            try {
              const planned = await planCost(s, item.prepared!);
              costings.get(item.collected.queryId)!.withIndex.push({ key: candidate.key, cost: planned.cost, used: planned.indexNames.includes(hypo.name) });
            } catch (err) {
              warnings.push(`query ${item.collected.queryId}: EXPLAIN with ${candidate.key} failed: ${errorMessage(err)}`);
            }
          }
        } finally {
          await dropHypothetical(s, hypo);
        }
      }

      const selection = selectIndexes([...costings.values()], candidates, t);
      const byKey = new Map(candidates.map((c) => [c.key, c]));
      const chosen = selection.chosen.map((c) => ({ ...c, candidate: byKey.get(c.key)! }));
      log(chosen.length ? `Index found: ${chosen.map((c) => c.key).join(", ")}` : "No new indexes found");

      // The chosen set together: final costs and size estimates.
      const hypos: HypotheticalIndex[] = [];
      for (const c of chosen) hypos.push(await createHypothetical(s, c.candidate));
      const sizes = new Map<string, number | null>();
      for (const h of hypos) sizes.set(h.candidate.key, await hypotheticalSize(s, h));
      const finalCost = new Map<string, number>();
      for (const item of costable) {
        try {
          finalCost.set(item.collected.queryId, (await planCost(s, item.prepared!)).cost);
        } catch (err) {
          warnings.push(`query ${item.collected.queryId}: EXPLAIN with the recommended indexes failed: ${errorMessage(err)}`);
        }
      }
      await resetHypothetical(s);

      const recommendations: Recommendation[] = chosen.map((c) => {
        const cand = c.candidate;
        const name = indexNameFor(cand.table.name, cand.columns, cand.table.schema);
        return {
          name,
          schema: cand.table.schema,
          table: cand.table.name,
          columns: cand.columns,
          ddl: createIndexDdl({ schema: cand.table.schema, table: cand.table.name, columns: cand.columns, name }),
          queries: c.queries.map((queryId) => ({
            queryId,
            costBefore: costings.get(queryId)!.initialCost,
            costAfter: finalCost.get(queryId) ?? costings.get(queryId)!.withIndex.find((w) => w.key === c.key)?.cost ?? costings.get(queryId)!.initialCost,
          })),
          weightedSavings: c.savings,
          estimatedSizeBytes: sizes.get(c.key) ?? null,
          writeHeavy: writeHeavy.get(tableKey(cand.table)) ?? null,
        };
      });
      const nameByKey = new Map(chosen.map((c, i) => [c.key, recommendations[i]!.name]));
      for (const q of selection.perQuery) {
        const item = items.find((i) => i.collected.queryId === q.queryId)!;
        item.advice.decision = q.decision;
        item.advice.reason = q.reason;
        item.advice.index = q.index ? (nameByKey.get(q.index) ?? null) : null;
        if (q.decision === "index") item.advice.costAfter = finalCost.get(q.queryId) ?? q.bestCost;
      }
      // Say why a query had nothing to cost: its candidates were filtered out before what-if.
      const coveredBy = new Map(covered.map((c) => [c.candidate, c.existingIndex]));
      for (const item of costable) {
        if (costings.get(item.collected.queryId)!.withIndex.length > 0 || item.advice.decision !== "no_index") continue;
        const proposed = proposedBy.get(item.collected.queryId) ?? [];
        const onSkipped = proposed.filter((c) => skipped.has(tableKey(c.table)));
        const byExisting = [...new Set(proposed.map((c) => coveredBy.get(c.key)).filter((x): x is string => x !== undefined))];
        if (proposed.length === 0) item.advice.reason = "no btree-indexable column among those it filters, joins or sorts on";
        else if (onSkipped.length === proposed.length) item.advice.reason = `its table is write-heavy and was skipped (${[...new Set(onSkipped.map((c) => tableKey(c.table)))].join(", ")}; writeHeavyPolicy=warn to advise anyway)`;
        else if (byExisting.length) item.advice.reason = `already served by existing index(es) ${byExisting.join(", ")}`;
      }
      for (const item of items) if (item.advice.decision === "skipped" && !item.advice.reason) item.advice.reason = "not costed";
      await s.query("ROLLBACK");

      const hints = await adviseHints(s, items, version, t, payload.hints && hintPlan.available);
      await s.query("DEALLOCATE ALL");

      return {
        database: dbRows[0]!.db,
        serverVersionNum: version,
        extensions: {
          hypopg,
          pgQualstats: { used: qualstats.used, predicates: qualstats.columns.length, note: qualstats.note },
          pgHintPlan: hintPlan,
        },
        thresholds: t,
        queries: items.filter((i) => !i.systemOnly).map((i) => i.advice),
        ignoredStatements: items.filter((i) => i.systemOnly).length,
        recommendations,
        covered,
        skippedTables,
        hints,
        warnings,
      };
    } catch (err) {
      await s.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      await resetHypothetical(s).catch(() => undefined);
    }
  });
}

function newWorkItem(c: CollectedQuery): WorkItem {
  return {
    collected: c,
    advice: {
      queryId: c.queryId,
      query: c.query,
      calls: c.calls,
      meanMs: c.meanMs,
      totalMs: c.totalMs,
      planMethod: null,
      parameters: [],
      columns: [],
      costBefore: null,
      costAfter: null,
      decision: "skipped",
      index: null,
      reason: "",
    },
    shape: null,
    tables: new Map(),
    columns: [],
    resolvedParameters: [],
    systemOnly: false,
    prepared: null,
    initialCost: null,
  };
}

function skip(item: WorkItem, reason: string): void {
  item.advice.decision = "skipped";
  item.advice.reason = reason;
}

/** Parse, resolve tables and columns (parser + pg_qualstats). */
async function understand(
  s: Session,
  item: WorkItem,
  cache: CatalogCache,
  qualstats: ReadonlyArray<{ queryId: string; oid: number; table: QualifiedTable; column: string }>,
): Promise<void> {
  const parsed = await parseQuery(item.collected.query);
  if (!parsed.ok) return skip(item, parsed.error);
  const shape = parsed.shape;
  if (shape.statements !== 1) return skip(item, `holds ${shape.statements} statements; only single statements are planned`);
  if (shape.kind === "other") return skip(item, "not a SELECT, INSERT, UPDATE or DELETE");
  item.shape = shape;

  const resolved = await resolveRelations(s, shape.relations);
  const notes: string[] = [];
  const catalog: Array<RelationCatalog[number]> = [];
  for (const [i, rel] of resolved.entries()) {
    const ref = shape.relations[i]!;
    if (!rel) {
      notes.push(`${ref.schema ? `${ref.schema}.` : ""}${ref.name} does not exist here`);
      catalog.push(null);
      continue;
    }
    if (isSystemSchema(rel.table.schema) || (await isExtensionMember(s, rel.oid))) {
      catalog.push(null);
      continue;
    }
    if (!INDEXABLE_RELKINDS.has(rel.relkind)) {
      notes.push(`${tableKey(rel.table)} is ${RELKIND_NAMES[rel.relkind] ?? `relkind ${rel.relkind}`}`);
      catalog.push(null);
      continue;
    }
    await remember(s, cache, rel.oid, rel.table);
    catalog.push({ table: rel.table, columns: new Set(cache.columns.get(rel.oid)!.map((c) => c.name)) });
    item.tables.set(tableKey(rel.table), rel.table);
  }
  const columns = resolveColumns(shape, catalog);
  item.columns = columns.columns.map((c) => ({ ...c, source: "parser" as const }));
  item.resolvedParameters = columns.parameters;
  for (const q of qualstats.filter((x) => x.queryId === item.collected.queryId)) {
    const key = tableKey(q.table);
    await remember(s, cache, q.oid, q.table);
    item.tables.set(key, q.table);
    const existing = item.columns.find((c) => tableKey(c.table) === key && c.column === q.column);
    if (!existing) item.columns.push({ table: q.table, column: q.column, clauses: ["where"], source: "pg_qualstats" });
  }
  item.advice.columns = item.columns.map((c) => ({ table: { schema: c.table.schema, name: c.table.name }, column: c.column, clauses: c.clauses, source: c.source }));
  if (item.tables.size === 0) {
    item.systemOnly = notes.length === 0;
    return skip(item, notes.length ? `no indexable table: ${notes.join("; ")}` : "touches no user table");
  }
}

/** Prepare and take the query's cost without any hypothetical index. */
async function costInitially(s: Session, item: WorkItem, version: number, t: IndexAdvisorThresholds): Promise<void> {
  if (!item.shape || item.tables.size === 0) return;
  try {
    item.prepared = await prepareQuery(s, item.collected.query, version, item.shape.parameterCount, item.resolvedParameters);
    item.advice.planMethod = item.prepared.method;
    item.advice.parameters = item.prepared.parameters;
    const planned = await planCost(s, item.prepared);
    item.initialCost = planned.cost;
    item.advice.costBefore = planned.cost;
    if (item.columns.length === 0) {
      item.advice.decision = "no_index";
      item.advice.reason = "no column an index could serve (no WHERE, JOIN or ORDER BY on a table column)";
    } else if (planned.cost < t.minInitialCost) {
      item.advice.decision = "low_cost";
      item.advice.reason = `planner cost ${planned.cost.toFixed(1)} is below minInitialCost ${t.minInitialCost}: cheap already`;
    } else {
      item.advice.decision = "no_index";
      item.advice.reason = "no candidate index";
    }
  } catch (err) {
    skip(item, `could not be planned: ${errorMessage(err)}`);
  }
}

/** pg_stat_statements, hypopg_list_indexes …: objects an extension owns are not user tables. */
async function isExtensionMember(s: Session, oid: number): Promise<boolean> {
  const { rows } = await s.query("select 1 from pg_depend where classid = 'pg_class'::regclass and objid = $1 and deptype = 'e'", [oid]);
  return rows.length > 0;
}

async function remember(s: Session, cache: CatalogCache, oid: number, table: QualifiedTable): Promise<void> {
  if (cache.columns.has(oid)) return;
  const fetched = await tableColumns(s, [oid]);
  cache.columns.set(oid, fetched.get(oid) ?? []);
  cache.oidByTable.set(tableKey(table), oid);
}

function isBtreeable(cache: CatalogCache, table: QualifiedTable, column: string): boolean {
  const oid = cache.oidByTable.get(tableKey(table));
  if (oid === undefined) return false;
  return cache.columns.get(oid)?.some((c) => c.name === column && c.btree) ?? false;
}

function servesTable(item: WorkItem, c: IndexCandidate): boolean {
  return item.tables.has(tableKey(c.table));
}

function usesColumn(item: WorkItem, c: IndexCandidate): boolean {
  return item.columns.some((col) => tableKey(col.table) === tableKey(c.table) && col.column === c.columns[0]);
}

/** pg_hint_plan trials for SELECTs no index serves, in a read-only transaction rolled back. */
async function adviseHints(s: Session, items: WorkItem[], version: number, t: IndexAdvisorThresholds, enabled: boolean): Promise<HintAdvice[]> {
  if (!enabled) return [];
  const out: HintAdvice[] = [];
  for (const item of items.filter((i) => i.advice.decision === "no_index" && i.shape?.kind === "select")) {
    await s.query("BEGIN READ ONLY");
    try {
      await s.query("select set_config('statement_timeout', $1, true)", [String(t.explainTimeoutMs)]);
      const q = await prepareQuery(s, item.collected.query, version, item.shape!.parameterCount, item.resolvedParameters, { withValues: true });
      out.push(await tryHints(s, item.collected.queryId, q, item.shape!, t.minHintImprovementPct));
      await deallocate(s, q);
    } catch (err) {
      out.push({ queryId: item.collected.queryId, hint: null, currentMs: null, hintedMs: null, trials: [], reason: `hint trials failed: ${errorMessage(err)}` });
    } finally {
      await s.query("ROLLBACK");
    }
  }
  return out;
}
