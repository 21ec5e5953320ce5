/**
 * Choosing indexes from what-if costs: Dexter's rule per query, then a greedy cover across
 * queries so the fewest indexes win the most saved cost.
 *
 * Per query (Dexter): a hypothetical index counts only if the planner used it and it cut the
 * query's cost by ≥ minCostSavingsPct. A two-column index counts only if the best single-column
 * plan still costs more than multiColumnMinCost and the pair cuts that by the same percentage
 * again. A pair that fails that bar may still serve a query its leading column serves, credited
 * no more than that single column (so a query never pulls in a fatter index on its own, but two
 * queries can share one).
 *
 * Across queries (greedy weighted set cover): savings(q, i) = (cost(q) − cost(q | i)) × calls(q).
 * Repeatedly take the index with the largest total savings over the queries not yet served
 * (ties: fewer columns, then name), mark the queries it serves, stop at maxIndexes or when no
 * index saves anything. Greedy cover is within ln(n) of the optimum and needs no solver.
 *
 * @example
 *   const sel = selectIndexes(costings, candidates, DEFAULT_THRESHOLDS);
 *   sel.chosen;   // [{ key: "public.orders(customer_id)", queries: ["q1", "q4"], savings: 9.3e5 }]
 *   sel.perQuery; // [{ queryId: "q2", decision: "no_index", reason: "best candidate … cut 12 %, below 50 %" }, …]
 */
import type { IndexCandidate } from "./candidates";
import type { IndexAdvisorThresholds } from "./thresholds";

export interface HypotheticalCost {
  key: string;
  /** Planner total cost of the query with only this hypothetical index present. */
  cost: number;
  /** Whether the plan used the hypothetical index at all. */
  used: boolean;
}

export interface QueryCosting {
  queryId: string;
  /** calls in the window: how much a saved unit of cost is worth. */
  weight: number;
  initialCost: number;
  withIndex: HypotheticalCost[];
}

export type QueryDecision = "index" | "no_index" | "low_cost";

export interface QuerySelection {
  queryId: string;
  decision: QueryDecision;
  /** The chosen index serving this query (first in choice order), or null. */
  index: string | null;
  /** Best single hypothetical cost seen for the query (initial when none was used). */
  bestCost: number;
  bestKey: string | null;
  reason: string;
}

export interface ChosenIndex {
  key: string;
  queries: string[];
  savings: number;
}

export interface Selection {
  chosen: ChosenIndex[];
  perQuery: QuerySelection[];
}

interface Acceptable {
  key: string;
  savings: number;
}

function pct(from: number, to: number): number {
  return from > 0 ? ((from - to) / from) * 100 : 0;
}

/** The indexes that would serve one query, each with the savings it would bring. */
export function acceptableIndexes(
  q: QueryCosting,
  candidates: ReadonlyMap<string, IndexCandidate>,
  t: Pick<IndexAdvisorThresholds, "minCostSavingsPct" | "multiColumnMinCost" | "minInitialCost">,
): Acceptable[] {
  if (q.initialCost < t.minInitialCost) return [];
  const keep = 1 - t.minCostSavingsPct / 100;
  const used = q.withIndex.filter((h) => h.used && candidates.has(h.key));
  const width = (h: HypotheticalCost) => candidates.get(h.key)!.columns.length;
  const singles = used.filter((h) => width(h) === 1);
  const pairs = used.filter((h) => width(h) === 2);
  const best1 = Math.min(q.initialCost, ...singles.map((h) => h.cost));
  const saving = (cost: number) => Math.max(0, q.initialCost - cost) * q.weight;

  const passingSingles = singles.filter((h) => h.cost <= q.initialCost * keep);
  const out: Acceptable[] = passingSingles.map((h) => ({ key: h.key, savings: saving(h.cost) }));
  const singleByLead = new Map(passingSingles.map((h) => [candidates.get(h.key)!.columns[0]!, h]));
  for (const p of pairs) {
    if (p.cost > q.initialCost * keep) continue;
    const pairEarnsItsColumn = best1 > t.multiColumnMinCost && p.cost <= best1 * keep;
    if (pairEarnsItsColumn) {
      out.push({ key: p.key, savings: saving(p.cost) });
      continue;
    }
    const lead = singleByLead.get(candidates.get(p.key)!.columns[0]!);
    if (lead) out.push({ key: p.key, savings: Math.min(saving(p.cost), saving(lead.cost)) });
  }
  return out;
}

export function selectIndexes(
  costings: readonly QueryCosting[],
  candidateList: readonly IndexCandidate[],
  t: Pick<IndexAdvisorThresholds, "minCostSavingsPct" | "multiColumnMinCost" | "minInitialCost" | "maxIndexes">,
): Selection {
  const candidates = new Map(candidateList.map((c) => [c.key, c]));
  const acceptable = new Map(costings.map((q) => [q.queryId, acceptableIndexes(q, candidates, t)]));
  const unserved = new Set(costings.filter((q) => acceptable.get(q.queryId)!.length > 0).map((q) => q.queryId));
  const chosen: ChosenIndex[] = [];

  while (unserved.size > 0 && chosen.length < t.maxIndexes) {
    const gains = new Map<string, { savings: number; queries: string[] }>();
    for (const queryId of unserved) {
      for (const a of acceptable.get(queryId)!) {
        const g = gains.get(a.key) ?? { savings: 0, queries: [] };
        g.savings += a.savings;
        g.queries.push(queryId);
        gains.set(a.key, g);
      }
    }
    const ranked = [...gains.entries()].sort(
      ([ka, a], [kb, b]) =>
        b.savings - a.savings || candidates.get(ka)!.columns.length - candidates.get(kb)!.columns.length || ka.localeCompare(kb),
    );
    const best = ranked[0];
    if (!best || best[1].savings <= 0) break;
    chosen.push({ key: best[0], queries: [...best[1].queries].sort(), savings: best[1].savings });
    for (const queryId of best[1].queries) unserved.delete(queryId);
  }

  // Dexter's last filter: a chosen (a) is redundant next to a chosen (a, b).
  const leads = new Set(chosen.filter((c) => candidates.get(c.key)!.columns.length > 1).map((c) => leadKey(candidates.get(c.key)!)));
  const final = chosen.filter((c) => candidates.get(c.key)!.columns.length > 1 || !leads.has(leadKey(candidates.get(c.key)!)));
  for (const dropped of chosen.filter((c) => !final.includes(c))) {
    const wider = final.find((f) => leadKey(candidates.get(f.key)!) === leadKey(candidates.get(dropped.key)!))!;
    wider.queries = [...new Set([...wider.queries, ...dropped.queries])].sort();
    wider.savings += dropped.savings;
  }

  const perQuery = costings.map((q) => decide(q, acceptable.get(q.queryId)!, final, candidates, t));
  return { chosen: final, perQuery };
}

function leadKey(c: IndexCandidate): string {
  return `${c.table.schema}.${c.table.name}|${c.columns[0]}`;
}

function decide(
  q: QueryCosting,
  acceptable: Acceptable[],
  chosen: ChosenIndex[],
  candidates: ReadonlyMap<string, IndexCandidate>,
  t: Pick<IndexAdvisorThresholds, "minCostSavingsPct" | "minInitialCost" | "maxIndexes">,
): QuerySelection {
  const used = q.withIndex.filter((h) => h.used && candidates.has(h.key)).sort((a, b) => a.cost - b.cost);
  const best = used[0];
  const bestCost = best ? Math.min(best.cost, q.initialCost) : q.initialCost;
  const bestKey = best?.key ?? null;
  if (q.initialCost < t.minInitialCost) {
    return { queryId: q.queryId, decision: "low_cost", index: null, bestCost, bestKey, reason: `planner cost ${q.initialCost.toFixed(1)} is below minInitialCost ${t.minInitialCost}: cheap already` };
  }
  const serving = chosen.find((c) => c.queries.includes(q.queryId) || acceptable.some((a) => a.key === c.key));
  if (serving) {
    return { queryId: q.queryId, decision: "index", index: serving.key, bestCost, bestKey, reason: `served by ${serving.key}` };
  }
  let reason: string;
  if (!best) reason = "the planner used none of the hypothetical indexes";
  else if (acceptable.length === 0)
    reason = `best candidate ${best.key} cut the cost by ${pct(q.initialCost, best.cost).toFixed(0)} %, below minCostSavingsPct ${t.minCostSavingsPct} %`;
  else reason = `maxIndexes (${t.maxIndexes}) reached before this query's index`;
  return { queryId: q.queryId, decision: "no_index", index: null, bestCost, bestKey, reason };
}
