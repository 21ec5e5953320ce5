/**
 * The index advisor's typed boundary: payloads and results of the runner commands hypo_indexes,
 * create_index and drop_index (zod, shared by the Worker and the runner), which are also what
 * `pg2une advise-indexes --json` prints.
 */
import { z } from "zod";
import { MANAGED_INDEX_PREFIX } from "./identifiers";
import { IndexAdvisorThresholdsSchema } from "./thresholds";

const Identifier = z.string().min(1).max(63);

export const PlanMethodSchema = z.enum([
  /** No parameters: EXPLAIN as is. */
  "plain",
  /** PostgreSQL 16+: EXPLAIN (GENERIC_PLAN), parameters stay unknown to the planner. */
  "generic_plan",
  /** Before 16: PREPARE, then EXPLAIN EXECUTE with representative values from pg_stats (custom plan). */
  "prepared_representative_values",
  /** Before 16, a parameter without a representative value: PREPARE + force_generic_plan. */
  "prepared_generic_plan",
]);
export type PlanMethod = z.infer<typeof PlanMethodSchema>;

export const ParameterValueSchema = z.object({
  number: z.number().int().min(1),
  /** The literal used, as text; null = SQL NULL. */
  value: z.string().nullable(),
  source: z.enum(["histogram_median", "least_common_value", "limit_default", "offset_default", "null"]),
  column: z.string().nullable(),
});
export type ParameterValue = z.infer<typeof ParameterValueSchema>;

export const TableRefSchema = z.object({ schema: Identifier, name: Identifier });

export const QueryColumnSchema = z.object({
  table: TableRefSchema,
  column: z.string(),
  clauses: z.array(z.enum(["where", "join", "order"])),
  source: z.enum(["parser", "pg_qualstats"]),
});

export const QueryAdviceSchema = z.object({
  queryId: z.string(),
  query: z.string(),
  calls: z.number(),
  meanMs: z.number(),
  totalMs: z.number(),
  planMethod: PlanMethodSchema.nullable(),
  parameters: z.array(ParameterValueSchema),
  columns: z.array(QueryColumnSchema),
  costBefore: z.number().nullable(),
  /** Cost with every recommended index present (hypothetically), null when none applies. */
  costAfter: z.number().nullable(),
  decision: z.enum(["index", "no_index", "low_cost", "skipped"]),
  /** Name of the recommended index serving this query. */
  index: z.string().nullable(),
  reason: z.string(),
});
export type QueryAdvice = z.infer<typeof QueryAdviceSchema>;

export const RecommendationSchema = z.object({
  name: Identifier,
  schema: Identifier,
  table: Identifier,
  columns: z.array(z.string()).min(1),
  ddl: z.string(),
  queries: z.array(z.object({ queryId: z.string(), costBefore: z.number(), costAfter: z.number() })),
  /** Σ (cost before − cost after) × calls over the queries it serves. */
  weightedSavings: z.number(),
  estimatedSizeBytes: z.number().nullable(),
  writeHeavy: z.object({ ratio: z.number(), warning: z.string() }).nullable(),
});
export type Recommendation = z.infer<typeof RecommendationSchema>;

export const HintAdviceSchema = z.object({
  queryId: z.string(),
  hint: z.string().nullable(),
  currentMs: z.number().nullable(),
  hintedMs: z.number().nullable(),
  trials: z.array(z.object({ hint: z.string().nullable(), cost: z.number(), actualMs: z.number().nullable() })),
  reason: z.string(),
});

export const AdviceSchema = z.object({
  database: z.string(),
  serverVersionNum: z.number().int(),
  extensions: z.object({
    hypopg: z.object({ version: z.string(), createdNow: z.boolean() }),
    pgQualstats: z.object({ used: z.boolean(), predicates: z.number().int(), note: z.string() }),
    pgHintPlan: z.object({ available: z.boolean(), note: z.string() }),
  }),
  thresholds: IndexAdvisorThresholdsSchema,
  queries: z.array(QueryAdviceSchema),
  /** Statements that read only system catalogs or extension views (monitoring, pg2une's own): not listed. */
  ignoredStatements: z.number().int(),
  recommendations: z.array(RecommendationSchema),
  /** Candidates an existing btree already serves (leading columns). */
  covered: z.array(z.object({ candidate: z.string(), existingIndex: z.string() })),
  skippedTables: z.array(z.object({ table: z.string(), reason: z.string() })),
  hints: z.array(HintAdviceSchema),
  warnings: z.array(z.string()),
});
export type Advice = z.infer<typeof AdviceSchema>;

// ── runner commands ──────────────────────────────────────────────────────────────────────────

export const HypoIndexesPayloadSchema = z.object({
  thresholds: IndexAdvisorThresholdsSchema.partial().default({}),
  /** Restrict to these pg_stat_statements queryids (e.g. the regressed queries). */
  queryIds: z.array(z.string().regex(/^-?\d+$/, "a queryid is a (signed) integer")).optional(),
  /** Try pg_hint_plan hints for queries no index serves (when the extension exists). */
  hints: z.boolean().default(true),
}).strict();
export type HypoIndexesPayload = z.input<typeof HypoIndexesPayloadSchema>;

export const IndexSpecSchema = z.object({
  schema: Identifier,
  table: Identifier,
  columns: z.array(Identifier).min(1).max(32),
  /** Queries whose window mean decides whether the index stays. */
  queryIds: z.array(z.string()).min(1),
}).strict();
export type IndexSpec = z.infer<typeof IndexSpecSchema>;

export const CreateIndexPayloadSchema = z.object({
  indexes: z.array(IndexSpecSchema).min(1),
  thresholds: IndexAdvisorThresholdsSchema.partial().default({}),
}).strict();
export type CreateIndexPayload = z.input<typeof CreateIndexPayloadSchema>;

const WindowSchema = z.object({ calls: z.number(), meanMs: z.number(), stddevMs: z.number().nullable() }).nullable();

export const ManagedIndexRecordSchema = z.object({
  indexName: Identifier,
  schema: Identifier,
  tableName: Identifier,
  columns: z.array(z.string()),
  ddl: z.string(),
  status: z.enum(["created", "kept", "dropped", "failed"]),
  measured: z.object({
    queryIds: z.array(z.string()),
    buildMs: z.number().nullable(),
    before: WindowSchema,
    after: WindowSchema,
    verdict: z.enum(["improved", "not_improved", "unmeasured"]).nullable(),
    improvementPct: z.number().nullable(),
    reason: z.string(),
  }),
  createdAt: z.string().nullable(),
  droppedAt: z.string().nullable(),
});
export type ManagedIndexRecord = z.infer<typeof ManagedIndexRecordSchema>;

export const CreateIndexResultSchema = z.object({ records: z.array(ManagedIndexRecordSchema) });

/** pg2une only ever drops its own indexes: the name must carry the prefix. */
export const ManagedIndexNameSchema = z
  .string()
  .min(MANAGED_INDEX_PREFIX.length + 1)
  .max(63)
  .refine((n) => n.startsWith(MANAGED_INDEX_PREFIX), `pg2une only drops indexes it created (named ${MANAGED_INDEX_PREFIX}…)`);

export const DropIndexPayloadSchema = z.union([
  z.object({ indexes: z.array(z.object({ schema: Identifier, name: ManagedIndexNameSchema }).strict()).min(1) }).strict(),
  z.object({ all: z.literal(true) }).strict(),
]);
export type DropIndexPayload = z.input<typeof DropIndexPayloadSchema>;

export const ManagedIndexSchema = z.object({
  schema: z.string(),
  name: z.string(),
  table: z.string(),
  definition: z.string(),
  valid: z.boolean(),
  sizeBytes: z.number(),
});

export const DropIndexResultSchema = z.object({
  dropped: z.array(z.object({ schema: z.string(), name: z.string() })),
  notFound: z.array(z.object({ schema: z.string(), name: z.string() })),
});
