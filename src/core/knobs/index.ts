/**
 * Knobs: what pg2une may tune, how values are written and read, and how a proposed config is
 * checked against the target's pg_settings.
 *
 * @example
 *   const result = validateConfig({ work_mem: "64MB" }, pgSettingsRows);
 *   if (result.ok) for (const k of result.knobs) console.log(k.name, k.rendered, k.restartRequired);
 */
export * from "./catalog";
export * from "./units";
export * from "./pg-settings";
export * from "./validate";
export * from "./ranges";
export * from "./memory-guard";
