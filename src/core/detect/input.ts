/**
 * The detection input as it crosses a boundary (CLI file, HTTP body): either a bare array of
 * snapshots (`/api/metrics/history` items) or an object that adds per-query windows, the time
 * from which baselines are valid (after a promoted run), and optionally a longer history for the
 * seasonal expectation (e.g. 15-minute bucket means over two days, so Holt–Winters sees its daily
 * season without the caller loading 2 880 one-minute snapshots). Validated with zod; errors name
 * the item.
 */
import { z } from "zod";
import { queryWindowSchema, systemSnapshotSchema } from "./history";

const snapshotsSchema = z.array(systemSnapshotSchema).superRefine((snapshots, ctx) => {
  for (let i = 1; i < snapshots.length; i++) {
    if (Date.parse(snapshots[i]!.snapshot_time) < Date.parse(snapshots[i - 1]!.snapshot_time)) {
      ctx.addIssue({
        code: "custom",
        path: [i, "snapshot_time"],
        message: `snapshots must be in ascending snapshot_time order (item ${i} is earlier than item ${i - 1})`,
      });
      return;
    }
  }
});

export const detectionInputSchema = z.union([
  snapshotsSchema.transform((snapshots) => ({ snapshots, queries: [], baseline_valid_from: undefined, seasonal_history: undefined })),
  z
    .object({
      snapshots: snapshotsSchema,
      queries: z.array(queryWindowSchema).default([]),
      baseline_valid_from: z.iso.datetime({ offset: true }).optional(),
      seasonal_history: snapshotsSchema.optional(),
    })
    .strict(),
]);

export type DetectionInput = z.output<typeof detectionInputSchema>;

/** Human-readable first problems of a failed parse, e.g. `[3].tps: expected number, received string`. */
export function describeInputError(error: z.ZodError, max = 3): string {
  const issues = collectIssues(error.issues);
  const lines = issues.slice(0, max).map((i) => `${formatPath(i.path)}: ${i.message}`);
  if (issues.length > max) lines.push(`… and ${issues.length - max} more`);
  return lines.join("\n");
}

type Issue = z.core.$ZodIssue;

/** A union failure hides the useful messages in its branches; pick the branch that got furthest. */
function collectIssues(issues: readonly Issue[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const branches = issue.errors.map((branch) => collectIssues(branch));
      const deepest = branches.reduce((best, b) => (depth(b) > depth(best) ? b : best), branches[0]!);
      out.push(...deepest.map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
    } else out.push(issue);
  }
  return out;
}

function depth(issues: readonly Issue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return "input";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

export type ParsedInput = { ok: true; input: DetectionInput } | { ok: false; error: string };

/** Validate an already JSON-decoded value; the error says what is wrong and where. */
export function parseDetectionInput(value: unknown): ParsedInput {
  if (value === null || typeof value !== "object") {
    return {
      ok: false,
      error: `expected an array of snapshots or an object {"snapshots": [...], "queries"?: [...], "baseline_valid_from"?: "<ISO time>", "seasonal_history"?: [...]}, got ${value === null ? "null" : typeof value}`,
    };
  }
  const parsed = detectionInputSchema.safeParse(value);
  return parsed.success ? { ok: true, input: parsed.data } : { ok: false, error: describeInputError(parsed.error) };
}
