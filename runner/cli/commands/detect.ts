/**
 * `pg2une detect <history.json> [--json] [--baseline-valid-from T] [--seed N]`: run the detection
 * core over a metrics history file (an array of /api/metrics/history items, or
 * {"snapshots": [...], "queries": [...], "baseline_valid_from": "..."}); "-" reads stdin.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { statementsNotice } from "../../../src/core/analysis";
import { DEFAULT_DETECT_CONFIG, detect, formatFact, parseDetectionInput, type DetectionReport } from "../../../src/core/detect";
import { CliError, formatTable, parseCommandArgs, printJson } from "../io";

export const USAGE = `Usage: pg2une detect <history.json|-> [--json] [--baseline-valid-from ISO-TIME] [--seed N]

  history.json   an array of snapshots shaped like /api/metrics/history items
                 (snapshot_time, tps, latency_p99, buffer_hit_ratio, active_connections, …),
                 or {"snapshots": [...], "queries": [...], "baseline_valid_from": "..."}
  --json         print {"alarms", "change_points", "facts", …, "notices"} as JSON
                 (items saying pg_stat_statements is unavailable add a notice with what to do)
  --baseline-valid-from  learn baselines only from this time on (e.g. after a promoted run)
  --seed         seed of the permutation tests (default ${DEFAULT_DETECT_CONFIG.seed})`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { json: { type: "boolean" }, "baseline-valid-from": { type: "string" }, seed: { type: "string" } },
    z.object({
      json: z.boolean().optional(),
      "baseline-valid-from": z.iso.datetime({ offset: true, message: "expected an ISO time like 2025-01-01T12:00:00Z" }).optional(),
      seed: z
        .string()
        .regex(/^-?\d+$/, "expected an integer")
        .transform(Number)
        .optional(),
      positionals: z.array(z.string()).length(1, "give exactly one history file (or - for stdin)"),
    }),
    USAGE,
  );
  const path = positionals[0]!;
  const text = readInput(path);
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = parseDetectionInput(decoded);
  if (!parsed.ok) throw new CliError(`${path} is not a metrics history:\n${parsed.error}`);
  const input = { ...parsed.input };
  if (values["baseline-valid-from"]) input.baseline_valid_from = values["baseline-valid-from"];
  const report = detect(input, { ...DEFAULT_DETECT_CONFIG, seed: values.seed ?? DEFAULT_DETECT_CONFIG.seed });

  // The history says the target had no pg_stat_statements: say what to do about it (stderr in
  // --json mode, so stdout stays one JSON document; the report carries it too).
  const notices = report.pg_stat_statements?.available === false ? [statementsNotice(report.pg_stat_statements)] : [];
  if (values.json) {
    for (const n of notices) process.stderr.write(`notice: ${n}\n`);
    printJson({ ...report, notices });
  } else process.stdout.write(`${humanReport(report, input.snapshots.length, notices)}\n`);
  return 0;
}

function readInput(path: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CliError(e.code === "ENOENT" ? `no such file: ${path}` : `cannot read ${path}: ${e.message}`);
  }
}

const fixed = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

function humanReport(r: DetectionReport, snapshots: number, notices: readonly string[]): string {
  const out: string[] = [];
  for (const n of notices) out.push(`Notice: ${n}`, "");
  out.push(`${snapshots} snapshots; baselines from index ${r.baseline_start.index} (${r.baseline_start.reason})`);
  out.push("", "CUSUM");
  out.push(
    formatTable(
      ["metric", "status", "baseline", "σ", "S now", "h", "alarms", "degraded"],
      r.cusum.map((c) => [
        c.metric,
        c.status,
        c.baseline ? fixed(c.baseline.center, 4) : "",
        c.baseline ? `${fixed(c.baseline.sigma, 4)}${c.baseline.floored ? " (floor)" : ""}` : "",
        fixed(c.statistic),
        c.h,
        r.alarms.filter((a) => a.metric === c.metric).length,
        c.degraded ? "yes" : "no",
      ]),
    ),
  );
  if (r.alarms.length) {
    out.push("", "Alarms (first crossing of h)");
    out.push(formatTable(["metric", "index", "snapshot_time", "S"], r.alarms.map((a) => [a.metric, a.index, a.snapshot_time, fixed(a.statistic)])));
  }
  out.push("", r.change_points.length ? "Change points (E-Divisive)" : "Change points (E-Divisive): none");
  if (r.change_points.length) {
    out.push(
      formatTable(
        ["metric", "index", "snapshot_time", "p", "before", "after", "magnitude", "degrading", "recent"],
        r.change_points.map((c) => [c.metric, c.index, c.snapshot_time, fixed(c.p_value, 3), fixed(c.mean_before, 3), fixed(c.mean_after, 3), fixed(c.magnitude, 3), c.degrading ? "yes" : "no", c.recent ? "yes" : "no"]),
      ),
    );
  }
  out.push("", `Workload: ${r.workload.class ?? "unknown"}${r.workload.score !== null ? ` (score ${fixed(r.workload.score)})` : ""}${r.workload.shift_active ? ", shift just confirmed" : ""}`);
  out.push(
    r.usl.status === "fitted"
      ? `USL: λ=${fixed(r.usl.fit.lambda)} σ=${r.usl.fit.sigma.toExponential(3)} κ=${r.usl.fit.kappa.toExponential(3)}; now N=${r.usl.current.concurrency} X=${fixed(r.usl.current.throughput)} vs ${fixed(r.usl.current.predicted)} predicted (${fixed(100 * r.usl.current.deviation, 1)} %)`
      : `USL: ${r.usl.reason}`,
  );
  for (const e of r.seasonal) out.push(`Seasonal (${e.method}) ${e.metric}: expected ${fixed(e.expected, 4)} in [${fixed(e.lower, 4)}, ${fixed(e.upper, 4)}], now ${fixed(e.value, 4)} (${e.position})`);
  if (r.query_regressions.length) {
    out.push("", "Query regressions");
    out.push(formatTable(["queryid", "load", "+%", "mean ms", "baseline ms", "calls", "baseline calls"], r.query_regressions.map((q) => [q.queryid, q.load, q.pct, fixed(q.current_mean_ms, 3), fixed(q.baseline_mean_ms, 3), q.current_calls, fixed(q.baseline_calls, 1)])));
  }
  const c = r.confidence;
  out.push("", `Confidence ${fixed(c.score)} (cusum ${c.components.cusum}, usl ${c.components.usl}, e-divisive ${c.components.otava}, seasonal ${c.components.seasonal})${c.high ? ": high" : ""}`);
  out.push("", "Facts", ...r.facts.map((f) => `  ${formatFact(f)}.`));
  return out.join("\n");
}
