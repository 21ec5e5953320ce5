/**
 * collect: one raw sample from the primary or the canary, through the same collector as
 * `pg2une collect` and the in-VM agent (runner/metrics/collect.ts). Read-only: it runs beside
 * mutating commands instead of queueing behind them.
 */
import { collectSample, DEFAULT_STATEMENT_TIMEOUT_MS } from "../metrics/collect";
import { CommandRefusal, type CommandHandler } from "./context";

export const collect: CommandHandler<"collect"> = async (payload, ctx) => {
  const connector = payload.node === "canary" ? ctx.canaryTarget() : ctx.target;
  if (!connector) throw new CommandRefusal(409, "no_canary", "no canary is running on this runner");
  return connector.withClient(
    (client) =>
      collectSample(client, {
        target: payload.target,
        topStatements: payload.top_statements,
        // No single catalog query may outlive the command.
        statementTimeoutMs: Math.min(DEFAULT_STATEMENT_TIMEOUT_MS, ctx.deadline - Date.now()),
      }),
    { deadline: ctx.deadline, signal: ctx.signal },
  );
};
