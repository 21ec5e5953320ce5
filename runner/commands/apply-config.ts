/**
 * apply_config: validate every value against the target's pg_settings first (all or nothing:
 * one bad value → 400 naming the knob, nothing written), then ALTER SYSTEM SET each knob,
 * pg_reload_conf(), and check on a fresh connection that the values are in effect.
 *
 * SQL safety: a knob name reaches SQL only after it matched the catalog/allow-list and the
 * setting-name pattern, and is quoted as an identifier; a value only after validateConfig
 * parsed and re-rendered it (e.g. "64MB"), and is quoted as a literal.
 */
import type pg from "pg";
import { validateConfig, type PgSettingRow, type ValidatedKnob } from "../../src/core/knobs";
import { AlterSystemError, alterSystemSetAll, valueInEffect } from "../postgres/alter-system";
import type { CommandResult } from "../../src/protocol";
import { CommandRefusal, type CommandContext, type CommandHandler } from "./context";
import { describeKnobErrors, readAutoConf, readPgSettings } from "./knob-access";

/** How long to wait for a reload to reach new backends before calling a knob not in effect. */
export const RELOAD_SETTLE_TIMEOUT_MS = 2_000;
const RELOAD_POLL_MS = 50;

export const applyConfig: CommandHandler<"apply_config"> = async (payload, ctx) => {
  const names = Object.keys(payload.settings);
  const opts = { deadline: ctx.deadline, signal: ctx.signal };
  const written = await ctx.target.withClient(async (client) => {
    // Names go to the server only as a bind parameter; validateConfig then refuses any that is
    // unknown, protected or out of the catalog, together with every bad value, by knob.
    const rows = await readPgSettings(client, names);
    const validation = validateConfig(payload.settings, rows, { allow: ctx.allowKnobs });
    if (!validation.ok) throw new CommandRefusal(400, "invalid_config", describeKnobErrors(validation.errors), validation.errors);

    const skipped = validation.knobs.filter((k) => k.restartRequired && payload.restartKnobs === "skip");
    const toWrite = validation.knobs.filter((k) => !skipped.includes(k));
    const previous = await readAutoConf(client, toWrite.map((k) => k.name));
    if (ctx.signal.aborted) throw ctx.signal.reason;
    await writeAll(client, toWrite, previous, ctx);
    if (toWrite.length > 0) await client.query("select pg_reload_conf()");
    return { rows, skipped, toWrite, previous };
  }, opts);

  const reloadable = written.toWrite.filter((k) => !k.restartRequired);
  const notInEffect = reloadable.length > 0 ? await waitUntilInEffect(reloadable, written.rows, ctx) : [];
  const failed = new Set(notInEffect.map((e) => e.knob));
  const describe = (k: ValidatedKnob) => ({ name: k.name, value: k.rendered, context: k.context, previous: written.previous.get(k.name) ?? null });
  const result: CommandResult<"apply_config"> = {
    applied: reloadable.filter((k) => !failed.has(k.name)).map(describe),
    skippedNeedsRestart: written.skipped.map((k) => ({ name: k.name, value: k.rendered, context: k.context })),
    pendingRestart: written.toWrite.filter((k) => k.restartRequired).map(describe),
    errors: notInEffect,
    reloaded: written.toWrite.length > 0,
  };
  return result;
};

async function writeAll(client: pg.Client, knobs: readonly ValidatedKnob[], previous: ReadonlyMap<string, string>, ctx: CommandContext) {
  try {
    await alterSystemSetAll(client, knobs, previous);
  } catch (err) {
    if (!(err instanceof AlterSystemError)) throw err;
    ctx.log("error", "apply_config_failed", { commandId: ctx.commandId, knob: err.knob, error: err.serverMessage, restoreProblems: err.restoreProblems });
    throw new CommandRefusal(422, "apply_failed", `${err.message}; nothing reloaded`, [{ knob: err.knob, message: err.serverMessage }]);
  }
}

/** Polls fresh connections until each knob shows its new value; returns the ones that never did. */
async function waitUntilInEffect(knobs: readonly ValidatedKnob[], rowsBefore: readonly PgSettingRow[], ctx: CommandContext) {
  const settleBy = Math.min(Date.now() + RELOAD_SETTLE_TIMEOUT_MS, ctx.deadline);
  const names = knobs.map((k) => k.name);
  for (;;) {
    const state = await ctx.target.withClient(
      async (client) => {
        const rows = await readPgSettings(client, names);
        const fileErrors = await client.query<{ name: string; error: string }>(
          `select name, error from pg_file_settings where error is not null and sourcefile like '%/postgresql.auto.conf' and name = any($1::text[])`,
          [names],
        );
        const sources = await client.query<{ name: string; source: string }>("select name, source from pg_settings where name = any($1::text[])", [names]);
        return { rows, fileErrors: new Map(fileErrors.rows.map((r) => [r.name, r.error])), sources: new Map(sources.rows.map((r) => [r.name, r.source])) };
      },
      { deadline: ctx.deadline, signal: ctx.signal },
    );
    const byName = new Map(state.rows.map((r) => [r.name, r]));
    const pending = knobs.filter((k) => {
      const row = byName.get(k.name) ?? rowsBefore.find((r) => r.name === k.name);
      return !row || !valueInEffect(row, k.value);
    });
    if (pending.length === 0) return [];
    if (Date.now() >= settleBy || state.fileErrors.size > 0) {
      return pending.map((k) => {
        const row = byName.get(k.name);
        const fileError = state.fileErrors.get(k.name);
        const source = state.sources.get(k.name);
        return {
          knob: k.name,
          message: fileError
            ? `server refused the value at reload: ${fileError}`
            : `not in effect after reload: the server reports ${row?.setting ?? "?"}${row?.unit ?? ""} (source: ${source ?? "?"}, which may override postgresql.auto.conf)`,
        };
      });
    }
    await new Promise((r) => setTimeout(r, RELOAD_POLL_MS));
  }
}
