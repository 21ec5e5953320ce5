/**
 * The Worker's configuration, parsed from its env with zod (vars from wrangler.toml, secrets
 * from `wrangler secret put` or .dev.vars). A missing or malformed value fails loudly with the
 * variable's name instead of surfacing later as an undefined.
 */
import { z } from "zod";
import { RolloutTimingsSchema } from "./core/rollout/timings";
import { DetectionWindowsSchema } from "./decide/detection-windows";

const intFromString = (fallback: number) =>
  z
    .union([z.string(), z.number()])
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = typeof v === "number" ? v : Number(v);
      if (!Number.isFinite(n)) {
        ctx.addIssue({ code: "custom", message: `expected a number, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });

/** An optional JSON env var parsed with `schema`; unset or blank = {}. */
function jsonVar<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return {};
      try {
        return JSON.parse(v) as unknown;
      } catch (err) {
        ctx.addIssue({ code: "custom", message: `not JSON: ${(err as Error).message}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

export const WorkerConfigSchema = z.object({
  DATABASE_URL: z.string().min(1, "DATABASE_URL is required (pg2une's own database)"),
  PG2UNE_API_TOKEN: z.string().min(16, "PG2UNE_API_TOKEN must be at least 16 characters"),
  PG2UNE_RUNNER_KEYS: z.string().default(""),
  NEON_WS_PROXY: z.string().optional(),
  TARGET_NAME: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i).default("default"),
  TARGET_MODE: z.enum(["direct", "canary"]).default("direct"),
  TOTAL_RAM_MB: intFromString(4096),
  RUNNER_URL: z.string().url().default("http://127.0.0.1:7070"),
  RUNNER_KEY_ID: z.string().min(1).default("default"),
  POLL_INTERVAL_MS: intFromString(60_000),
  RETENTION_DAYS: intFromString(14),
  MXC_COORDINATOR: z.string().default("http://localhost:4000"),
  /** Rollout step timings as JSON, e.g. {"canaryStepMs": 5000} (src/core/rollout/timings.ts); unset = defaults. */
  ROLLOUT_TIMINGS: jsonVar(RolloutTimingsSchema.partial().strict()),
  /**
   * Detection window lengths as JSON, e.g. {"cusumReferenceSize": 20} (src/decide/detection-windows.ts);
   * unset = the production defaults (60 reference points, 120 monitored). The detectors' maths
   * (k, h, σ floors, significance) are not configurable here.
   */
  DETECTION_WINDOWS: jsonVar(DetectionWindowsSchema),
  /** "true" lets POST /api/optimize carry force_config (tests, operators trying a config safely). */
  ALLOW_FORCED_CONFIG: z
    .enum(["true", "false", ""])
    .optional()
    .transform((v) => v === "true"),
});

export type WorkerConfig = z.output<typeof WorkerConfigSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function parseWorkerConfig(env: unknown): WorkerConfig {
  const parsed = WorkerConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`).join("; ");
    throw new ConfigError(`pg2une Worker is misconfigured: ${problems}`);
  }
  return parsed.data;
}
