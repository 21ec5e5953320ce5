/**
 * Tells the story of the loop in the dev log, from the outside, through the same REST API a user
 * would curl: what the history holds while the baseline is learned, the cron loop's decisions
 * (GET /api/status → last_decision: CUSUM state, detectors, confidence), and the run it starts
 * (its steps, then its outcome and timeline from /api/optimization/:id). Every line carries the time since the demo started.
 */
import { z } from "zod";

const CusumStateSchema = z.object({ status: z.string(), statistic: z.number(), h: z.number(), degraded: z.boolean() });

/** The cron loop's latest decision (src/decide/tick-decision.ts), as GET /api/status shows it. */
const DecisionSchema = z
  .object({
    at: z.string(),
    status: z.string(),
    why: z.string(),
    should_act: z.array(z.string()),
    action: z.string().nullable(),
    run_id: z.string().nullable(),
    confidence: z.number().nullable(),
    detectors: z.array(z.string()),
    suppress_action: z.boolean().nullable().optional(),
    cusum: z.record(z.string(), CusumStateSchema),
  })
  .passthrough();
export type DemoDecision = z.output<typeof DecisionSchema>;

const StatusSchema = z.object({
  state: z.string(),
  last_decision: DecisionSchema.nullable().optional(),
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
    run: (id) => get(`/api/optimization/${encodeURIComponent(id)}`, RunSchema),
  };
}

/** "t+4:05" */
export function elapsed(sinceMs: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - sinceMs) / 1000));
  return `t+${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? "–" : v.toFixed(digits));

/** CUSUM per metric in a few words: "tps monitoring S=0.4/4, latency_p99 learning". */
export function describeCusum(d: DemoDecision): string {
  return Object.entries(d.cusum)
    .map(([m, c]) => (c.status === "monitoring" ? `${m} S=${c.statistic.toFixed(1)}/${c.h}${c.degraded ? " ALARM" : ""}` : `${m} ${c.status.replace("_", " ")}`))
    .join(", ");
}

/** Every watched metric has its baseline and is being monitored. */
export function allMonitoring(d: DemoDecision | null | undefined): boolean {
  const states = Object.values(d?.cusum ?? {});
  return states.length > 0 && states.every((c) => c.status === "monitoring");
}

/** The run's outcome in one line. */
export function describeOutcome(run: DemoRun): string {
  const improvement = run.improvement_pct === null ? "" : `, improvement ${run.improvement_pct >= 0 ? "+" : ""}${run.improvement_pct.toFixed(1)} %`;
  return `${run.outcome ?? "unknown"}${improvement}${run.reason ? ` — ${run.reason}` : ""}`;
}
