/**
 * The index advisor's runner commands, ready for the signed-command registry (issue 3): each is
 * a name, a zod payload schema, a zod result schema and a handler that runs against the
 * runner's target database. Until the registry lands on main they are plain functions the CLI,
 * the tests and the benchmark call directly; wiring them in is registering these three objects.
 *
 * @example
 *   const cmd = INDEX_COMMANDS.hypo_indexes;
 *   const advice = cmd.result.parse(await cmd.run({ targetUrl }, cmd.payload.parse(body)));
 */
import type { z } from "zod";
import {
  AdviceSchema,
  CreateIndexPayloadSchema,
  CreateIndexResultSchema,
  DropIndexPayloadSchema,
  DropIndexResultSchema,
  HypoIndexesPayloadSchema,
} from "../../src/core/indexes";
import { adviseIndexes } from "./advisor";
import { createIndexes } from "./index-creator";
import { dropIndexes } from "./managed";

export interface IndexCommandContext {
  /** The target database the runner acts on. */
  targetUrl: string;
  log?: (line: string) => void;
}

export interface IndexCommand<P extends z.ZodType, R extends z.ZodType> {
  name: string;
  payload: P;
  result: R;
  run(ctx: IndexCommandContext, payload: z.output<P>): Promise<z.output<R>>;
}

function command<P extends z.ZodType, R extends z.ZodType>(c: IndexCommand<P, R>): IndexCommand<P, R> {
  return c;
}

export const INDEX_COMMANDS = {
  /** What-if costing with HypoPG; creates nothing (but the hypopg extension when allowed). */
  hypo_indexes: command({
    name: "hypo_indexes",
    payload: HypoIndexesPayloadSchema,
    result: AdviceSchema,
    run: (ctx, payload) => adviseIndexes(ctx.targetUrl, payload, ctx.log),
  }),
  /** CREATE INDEX CONCURRENTLY, measure, keep or drop; one record per index. */
  create_index: command({
    name: "create_index",
    payload: CreateIndexPayloadSchema,
    result: CreateIndexResultSchema,
    run: (ctx, payload) => createIndexes(ctx.targetUrl, payload, ctx.log),
  }),
  /** DROP INDEX CONCURRENTLY of pg2une's own indexes (named ones, or all). */
  drop_index: command({
    name: "drop_index",
    payload: DropIndexPayloadSchema,
    result: DropIndexResultSchema,
    run: (ctx, payload) => dropIndexes(ctx.targetUrl, payload),
  }),
} as const;
