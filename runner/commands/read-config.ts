/** read_config: the catalog knobs as the target reports them, unit, context, pending restart. */
import type { CommandHandler } from "./context";
import { checkManaged, managedKnobs, readPgSettings } from "./knob-access";

export const readConfig: CommandHandler<"read_config"> = async (payload, ctx) => {
  const names = payload.knobs ?? managedKnobs(ctx.allowKnobs);
  checkManaged(names, ctx.allowKnobs);
  return ctx.target.withClient(
    async (client) => {
      const rows = await readPgSettings(client, names);
      const display = await client.query<{ name: string; display: string }>(
        "select name, current_setting(name) as display from pg_settings where name = any($1::text[])",
        [names],
      );
      const shown = new Map(display.rows.map((r) => [r.name, r.display]));
      const meta = await client.query<{ version: string; pending: boolean }>(
        "select current_setting('server_version') as version, exists(select 1 from pg_settings where pending_restart) as pending",
      );
      const found = new Set(rows.map((r) => r.name));
      return {
        settings: rows.map((r) => ({ ...r, display: shown.get(r.name) ?? r.setting })),
        unknownToServer: names.filter((n) => !found.has(n)),
        serverVersion: meta.rows[0]!.version,
        pendingRestart: meta.rows[0]!.pending,
      };
    },
    { deadline: ctx.deadline, signal: ctx.signal },
  );
};
