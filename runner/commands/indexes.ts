/** hypo_indexes, create_index, drop_index: the index advisor behind the signed-command protocol. */
import { adviseIndexes } from "../indexes/advisor";
import { IndexAdvisorError } from "../indexes/errors";
import { createIndexes } from "../indexes/index-creator";
import { dropIndexes } from "../indexes/managed";
import type { SessionProvider } from "../indexes/session";
import { CommandRefusal, type CommandContext, type CommandHandler } from "./context";

function sessions(ctx: CommandContext): SessionProvider {
  return (fn) => ctx.target.withClient(fn, { deadline: ctx.deadline, signal: ctx.signal });
}

function line(ctx: CommandContext, event: string) {
  return (message: string) => ctx.log("info", event, { commandId: ctx.commandId, message });
}

/** HypoPG missing or not permitted is the target's state, not a runner fault: a 422 that says what to install. */
async function refusingAdvisorErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof IndexAdvisorError) throw new CommandRefusal(422, "invalid_config", err.message, { code: err.code });
    throw err;
  }
}

export const hypoIndexes: CommandHandler<"hypo_indexes"> = (payload, ctx) =>
  refusingAdvisorErrors(() => adviseIndexes(sessions(ctx), payload, line(ctx, "hypo_indexes")));

export const createIndex: CommandHandler<"create_index"> = (payload, ctx) =>
  refusingAdvisorErrors(() => createIndexes(sessions(ctx), payload, line(ctx, "create_index")));

export const dropIndex: CommandHandler<"drop_index"> = (payload, ctx) => dropIndexes(sessions(ctx), payload);
