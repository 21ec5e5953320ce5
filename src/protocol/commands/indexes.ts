/**
 * The index advisor's commands. Payloads and results are the advisor's own schemas
 * (src/core/indexes/schemas.ts), so the CLI's --json output and these answers are one shape.
 */
import {
  AdviceSchema,
  CreateIndexPayloadSchema,
  CreateIndexResultSchema,
  DropIndexPayloadSchema,
  DropIndexResultSchema,
  HypoIndexesPayloadSchema,
} from "../../core/indexes/schemas";
import { defineCommand } from "./define";

export const hypoIndexesCommand = defineCommand({
  type: "hypo_indexes",
  summary: "what-if index advice with HypoPG: candidates, planner cost before/after, sizes, hints",
  // Reads and plans only (HypoPG indexes are private to the session); may CREATE EXTENSION hypopg.
  mutating: false,
  timeoutMs: 10 * 60_000,
  payload: HypoIndexesPayloadSchema,
  result: AdviceSchema,
});

export const createIndexCommand = defineCommand({
  type: "create_index",
  summary: "CREATE INDEX CONCURRENTLY, measure window means before/after, keep or drop",
  mutating: true,
  // Two measurement windows (60 s by default) per index plus the build itself.
  timeoutMs: 2 * 60 * 60_000,
  payload: CreateIndexPayloadSchema,
  result: CreateIndexResultSchema,
});

export const dropIndexCommand = defineCommand({
  type: "drop_index",
  summary: "DROP INDEX CONCURRENTLY pg2une's own indexes (named, or all)",
  mutating: true,
  timeoutMs: 30 * 60_000,
  payload: DropIndexPayloadSchema,
  result: DropIndexResultSchema,
});
