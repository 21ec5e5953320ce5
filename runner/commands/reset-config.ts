/** reset_config: ALTER SYSTEM RESET the given knobs (default: every managed knob), then reload. */
import { quoteSettingName } from "../../src/core/sql/quote";
import type { CommandHandler } from "./context";
import { checkManaged, managedKnobs, readAutoConf, readPgSettings } from "./knob-access";

export const resetConfig: CommandHandler<"reset_config"> = async (payload, ctx) => {
  const names = payload.knobs ?? managedKnobs(ctx.allowKnobs);
  checkManaged(names, ctx.allowKnobs);
  return ctx.target.withClient(
    async (client) => {
      const previous = await readAutoConf(client, names);
      const rows = await readPgSettings(client, [...previous.keys()]);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      // Only names that came back from the server's own view of auto.conf reach SQL, quoted.
      for (const name of previous.keys()) await client.query(`alter system reset ${quoteSettingName(name)}`);
      await client.query("select pg_reload_conf()");
      return {
        reset: [...previous].map(([name, value]) => ({ name, previous: value })),
        pendingRestart: rows.filter((r) => r.context === "postmaster").map((r) => r.name),
        reloaded: true,
      };
    },
    { deadline: ctx.deadline, signal: ctx.signal },
  );
};
