/**
 * `pg2une advise-indexes <postgres-url>`: which indexes would make the heaviest queries cheaper,
 * proven with HypoPG; with --apply, build them (CONCURRENTLY), measure, keep or drop.
 * `--list` shows the indexes pg2une made; `--drop-all-pg2une` removes them.
 */
import { z } from "zod";
import type { Advice, ManagedIndexRecord } from "../../../src/core/indexes";
import { adviseIndexes } from "../../indexes/advisor";
import { IndexAdvisorError } from "../../indexes/errors";
import { createIndexes } from "../../indexes/index-creator";
import { dropIndexes, listManagedIndexes } from "../../indexes/managed";
import { withSession } from "../../indexes/session";
import { CliError, formatTable, parseCommandArgs, printJson } from "../io";
import { redactUrl as redact } from "../../net/redact";

export const USAGE = `Usage: pg2une advise-indexes <postgres-url> [options]

  --json                     machine-readable output on stdout
  --apply                    create the recommended indexes (CONCURRENTLY), measure, keep or drop
  --list                     list the indexes pg2une created on this database
  --drop-all-pg2une          drop every index pg2une created (DROP INDEX CONCURRENTLY)
  --min-calls N              ignore queries called fewer times (default 10)
  --min-cost-savings-pct N   required planner-cost cut (default 50, Dexter's rule)
  --max-indexes N            indexes per run at most (default 5)
  --write-heavy skip|warn    tables written more than read: skip them or only warn (default skip)
  --query-id ID              only this pg_stat_statements queryid (repeatable)
  --measure-seconds N        --apply: length of the before and after windows (default 60)
  --min-improvement-pct N    --apply: measured mean must drop this much or the index is dropped (default 20)

Needs pg_stat_statements and HypoPG (postgresql-<major>-hypopg) on the server.`;

const Num = (min: number, max: number) => z.coerce.number().min(min).max(max).optional();

const ArgsSchema = z.object({
  json: z.boolean().optional(),
  apply: z.boolean().optional(),
  list: z.boolean().optional(),
  "drop-all-pg2une": z.boolean().optional(),
  "min-calls": Num(0, 1e12),
  "min-cost-savings-pct": Num(0, 100),
  "max-indexes": Num(1, 100),
  "write-heavy": z.enum(["skip", "warn"]).optional(),
  "query-id": z.array(z.string().regex(/^-?\d+$/, "a queryid is an integer")).optional(),
  "measure-seconds": Num(0.1, 86_400),
  "min-improvement-pct": Num(0, 100),
  positionals: z
    .array(z.string())
    .length(1, "give exactly one PostgreSQL URL")
    .refine((p) => /^postgres(ql)?:\/\//.test(p[0] ?? ""), "the target must be a postgres:// or postgresql:// URL"),
});

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      json: { type: "boolean" },
      apply: { type: "boolean" },
      list: { type: "boolean" },
      "drop-all-pg2une": { type: "boolean" },
      "min-calls": { type: "string" },
      "min-cost-savings-pct": { type: "string" },
      "max-indexes": { type: "string" },
      "write-heavy": { type: "string" },
      "query-id": { type: "string", multiple: true },
      "measure-seconds": { type: "string" },
      "min-improvement-pct": { type: "string" },
    },
    ArgsSchema,
    USAGE,
  );
  const url = values.positionals[0]!;
  const modes = [values.apply, values.list, values["drop-all-pg2une"]].filter(Boolean).length;
  if (modes > 1) throw new CliError(`--apply, --list and --drop-all-pg2une exclude each other\n\n${USAGE}`);
  const say = (line: string) => {
    if (!values.json) process.stderr.write(`${line}\n`);
  };

  try {
    if (values.list) return await list(url, values.json === true);
    if (values["drop-all-pg2une"]) {
      const result = await dropIndexes(url, { all: true });
      if (values.json) printJson(result);
      else process.stdout.write(result.dropped.length ? `dropped: ${result.dropped.map((d) => `${d.schema}.${d.name}`).join(", ")}\n` : "no pg2une indexes to drop\n");
      return 0;
    }
    const thresholds = {
      ...(values["min-calls"] !== undefined ? { minCalls: values["min-calls"] } : {}),
      ...(values["min-cost-savings-pct"] !== undefined ? { minCostSavingsPct: values["min-cost-savings-pct"] } : {}),
      ...(values["max-indexes"] !== undefined ? { maxIndexes: values["max-indexes"] } : {}),
      ...(values["write-heavy"] !== undefined ? { writeHeavyPolicy: values["write-heavy"] } : {}),
      ...(values["measure-seconds"] !== undefined ? { measureWindowMs: Math.round(values["measure-seconds"] * 1000) } : {}),
      ...(values["min-improvement-pct"] !== undefined ? { minMeasuredImprovementPct: values["min-improvement-pct"] } : {}),
    };
    const advice = await adviseIndexes(url, { thresholds, ...(values["query-id"] ? { queryIds: values["query-id"] } : {}) }, say);
    let applied: ManagedIndexRecord[] | null = null;
    if (values.apply && advice.recommendations.length > 0) {
      const specs = advice.recommendations.map((r) => ({ schema: r.schema, table: r.table, columns: r.columns, queryIds: r.queries.map((q) => q.queryId) }));
      applied = (await createIndexes(url, { indexes: specs, thresholds }, say)).records;
    }
    if (values.json) printJson(applied ? { ...advice, applied } : advice);
    else process.stdout.write(`${renderAdvice(advice, applied)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof IndexAdvisorError) throw new CliError(err.message, 3);
    if (err instanceof z.ZodError) throw new CliError(err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const message = (err as Error).message;
    if (/ECONNREFUSED|ENOTFOUND|password authentication|does not exist/.test(message)) throw new CliError(`cannot use ${redact(url)}: ${message}`, 1);
    throw err;
  }
}

async function list(url: string, json: boolean): Promise<number> {
  const indexes = await withSession(url, listManagedIndexes);
  if (json) printJson({ indexes });
  else if (indexes.length === 0) process.stdout.write("pg2une has created no indexes on this database\n");
  else process.stdout.write(`${formatTable(["index", "table", "valid", "size", "definition"], indexes.map((i) => [`${i.schema}.${i.name}`, i.table, i.valid ? "yes" : "NO", bytes(i.sizeBytes), i.definition]))}\n`);
  return 0;
}

function bytes(n: number | null): string {
  if (n === null) return "?";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v >= 10 || u === 0 ? 0 : 1)} ${units[u]}`;
}

function short(sql: string, max = 70): string {
  const one = sql.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function renderAdvice(advice: Advice, applied: ManagedIndexRecord[] | null): string {
  const out: string[] = [];
  const queryText = new Map(advice.queries.map((q) => [q.queryId, q]));
  out.push(`database ${advice.database} (server ${advice.serverVersionNum}), hypopg ${advice.extensions.hypopg.version}`);
  out.push(advice.extensions.pgQualstats.note, advice.extensions.pgHintPlan.note, "");
  if (advice.recommendations.length === 0) out.push("No new indexes found.");
  else {
    const rows = advice.recommendations.flatMap((r) =>
      r.queries.map((q, i) => [
        i === 0 ? r.ddl : "",
        short(queryText.get(q.queryId)?.query ?? q.queryId, 50),
        `${q.costBefore.toFixed(1)} → ${q.costAfter.toFixed(1)}`,
        i === 0 ? bytes(r.estimatedSizeBytes) : "",
        queryText.get(q.queryId)?.planMethod ?? "",
        i === 0 && r.writeHeavy ? "write-heavy" : "",
      ]),
    );
    out.push("Recommended indexes:", formatTable(["index", "query", "cost before → after", "est. size", "plan method", "note"], rows));
  }
  out.push(
    "",
    "Queries:",
    formatTable(
      ["queryid", "calls", "mean ms", "cost", "decision", "reason", "query"],
      advice.queries.map((q) => [
        q.queryId,
        q.calls,
        q.meanMs.toFixed(3),
        q.costBefore === null ? "" : q.costAfter === null ? q.costBefore.toFixed(1) : `${q.costBefore.toFixed(1)} → ${q.costAfter.toFixed(1)}`,
        q.decision,
        q.reason,
        short(q.query, 60),
      ]),
    ),
  );
  if (advice.ignoredStatements) out.push(`(${advice.ignoredStatements} statements reading only system catalogs or extension views not shown)`);
  for (const s of advice.skippedTables) out.push(`skipped ${s.table}: ${s.reason}`);
  for (const c of advice.covered) out.push(`covered: ${c.candidate} by existing ${c.existingIndex}`);
  for (const h of advice.hints) out.push(`hint for ${h.queryId}: ${h.hint ?? "none"} (${h.reason})`);
  for (const w of advice.warnings) out.push(`warning: ${w}`);
  if (applied) {
    out.push(
      "",
      "Applied:",
      formatTable(
        ["index", "status", "build ms", "mean ms before → after", "reason"],
        applied.map((r) => [
          r.indexName,
          r.status,
          r.measured.buildMs === null ? "" : Math.round(r.measured.buildMs),
          `${r.measured.before ? r.measured.before.meanMs.toFixed(3) : "?"} → ${r.measured.after ? r.measured.after.meanMs.toFixed(3) : "?"}`,
          r.measured.reason,
        ]),
      ),
    );
  }
  return out.join("\n");
}
