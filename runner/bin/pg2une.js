#!/usr/bin/env node
// The pg2une CLI entry: TypeScript runs through tsx's loader (no build step, works offline
// right after `npm install`); command modules are loaded lazily so `--help` stays fast.
import { register } from "tsx/esm/api";

register();
// `pg2une … | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
