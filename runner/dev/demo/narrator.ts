/**
 * Tells the story of the loop in the dev log, from the outside, through the same REST API a user
 * would curl: what the history holds while the baseline is learned, what /api/analysis reports
 * once the degradation bites, and the run /api/status shows (its steps, then its outcome from
 * /api/optimization/:id). Every line carries the time since the demo started.
 */
import { z } from "zod";

const StatusSchema = z.object({
  state: z.string(),
  busy: z.boolean(),
  cooldown_left_seconds: z.number().nullable().optional(),
  run: z
    .object({
      id: z.string(),
      action: z.string(),
      mode: z.string(),
      trigger: z.string().nullable().optional(),
      step: z.string(),
      phase: z.string(),
      finishedAt: z.string().nullable(),
      outcome: z.string().nullable(),
      reason: z.string().nullable(),
      improvementPct: z.number().nullable(),
    })
    .nullable(),
});
export type DemoStatus = z.output<typeof StatusSchema>;

const HistorySchema = z.object({
  items: z.array(z.object({ tps: z.number().nullable(), latency_p99: z.number().nullable().optional() }).passthrough()),
});

const AnalysisSchema = z
  .object({
    metrics: z.object({ degraded: z.array(z.string()), current: z.record(z.string(), z.number().nullable()).optional() }).passthrough(),
    confidence: z.object({ score: z.number(), high: z.boolean() }).passthrough(),
    queries: z.object({ regressions: z.array(z.object({ query: z.string().nullable().optional(), pct: z.number() }).passthrough()) }).passthrough(),
    decision: z.object({ should_act: z.array(z.string()), blocked: z.array(z.object({ action: z.string(), reason: z.string() })), summary: z.string() }).passthrough(),
  })
  .passthrough();
export type DemoAnalysis = z.output<typeof AnalysisSchema>;

const RunSchema = z
  .object({
    outcome: z.string().nullable(),
    reason: z.string().nullable(),
    improvement_pct: z.number().nullable(),
    events: z.array(z.object({ kind: z.string(), state: z.string(), message: z.string() })),
  })
  .passthrough();
export type DemoRun = z.output<typeof RunSchema>;

export interface DemoApi {
  status(): Promise<DemoStatus>;
  /** Snapshots of the last `minutes` with rates (tps not null). */
  history(minutes: number): Promise<Array<{ tps: number | null; latency_p99?: number | null | undefined }>>;
  analysis(): Promise<DemoAnalysis>;
  run(id: string): Promise<DemoRun>;
}

export function demoApi(apiUrl: string, token: string): DemoApi {
  const get = async <T>(path: string, schema: z.ZodType<T>): Promise<T> => {
    const res = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
    const body: unknown = await res.json();
    if (!res.ok) throw new Error(`GET ${path} → ${res.status}: ${JSON.stringify(body)}`);
    return schema.parse(body);
  };
  return {
    status: () => get("/api/status", StatusSchema),
    history: async (minutes) => (await get(`/api/metrics/history?minutes=${minutes}`, HistorySchema)).items,
    analysis: () => get("/api/analysis", AnalysisSchema),
    run: (id) => get(`/api/optimization/${encodeURIComponent(id)}`, RunSchema),
  };
}

/** "t+4:05" */
export function elapsed(sinceMs: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - sinceMs) / 1000));
  return `t+${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? "–" : v.toFixed(digits));

/** One line about what detection sees (null when it sees nothing worth saying). */
export function describeDetection(a: DemoAnalysis): string | null {
  if (a.metrics.degraded.length === 0 && a.queries.regressions.length === 0) return null;
  const parts = [];
  if (a.metrics.degraded.length) parts.push(`${a.metrics.degraded.join(", ")} degraded (CUSUM)`);
  if (a.queries.regressions.length) parts.push(`${a.queries.regressions.length} query regression(s), worst +${fmt(Math.max(...a.queries.regressions.map((r) => r.pct)), 0)} %`);
  const cur = a.metrics.current ?? {};
  return `${parts.join("; ")}; now tps ${fmt(cur.tps)}, p99 ${fmt(cur.latency_p99, 2)} ms; confidence ${a.confidence.score.toFixed(2)}${a.confidence.high ? " (high)" : ""}; decision: ${a.decision.summary}`;
}

/** The run's outcome in one line. */
export function describeOutcome(run: DemoRun): string {
  const improvement = run.improvement_pct === null ? "" : `, improvement ${run.improvement_pct >= 0 ? "+" : ""}${run.improvement_pct.toFixed(1)} %`;
  return `${run.outcome ?? "unknown"}${improvement}${run.reason ? ` — ${run.reason}` : ""}`;
}
