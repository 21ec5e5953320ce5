/**
 * Reading the target's settings for the config commands: which knobs a request may touch,
 * their pg_settings rows, and what postgresql.auto.conf currently says about them.
 */
import { CATALOG_KNOB_NAMES, forbiddenReason, knobSpec } from "../../src/core/knobs";
import { CommandRefusal } from "./context";

/** The knobs this runner manages: the catalog plus what the operator allow-listed. */
export function managedKnobs(allowKnobs: readonly string[]): string[] {
  return [...new Set([...CATALOG_KNOB_NAMES, ...allowKnobs])];
}

/** Refuses (400, naming the knob) any name that is neither in the catalog nor allow-listed. */
export function checkManaged(names: readonly string[], allowKnobs: readonly string[]): void {
  const errors = names.flatMap((name) => {
    if (allowKnobs.includes(name)) return [];
    const why = forbiddenReason(name);
    if (why) return [{ knob: name, message: `${name} is protected (${why}); an operator must allow-list it on the runner` }];
    if (!knobSpec(name)) return [{ knob: name, message: `unknown knob ${name}: not in pg2une's catalog` }];
    return [];
  });
  if (errors.length > 0) throw new CommandRefusal(400, "invalid_config", describeKnobErrors(errors), errors);
}

export function describeKnobErrors(errors: ReadonlyArray<{ knob: string; message: string }>): string {
  return `invalid config, nothing applied: ${errors.map((e) => `${e.knob}: ${e.message}`).join("; ")}`;
}

export { readAutoConf, readPgSettings } from "../postgres/alter-system";
