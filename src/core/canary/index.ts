/**
 * The canary's pure decisions: how PgBouncer's read-only slots are split, how the achieved share
 * is computed from pg_stat_statements, which settings a read-only standby can test, and the
 * routing layout the runner renders into pgbouncer.ini.
 *
 * @example
 *   const layout = routingLayout({ serverDatabase: "app", primary, canary, canaryPct: 25 });
 *   layout.readOnly.hosts.filter((h) => h === canary.host).length; // 5
 */
export * from "./slots";
export * from "./share";
export * from "./testable";
export * from "./routing";
