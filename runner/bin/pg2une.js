#!/usr/bin/env node
// The pg2une CLI entry: TypeScript runs through tsx's loader (no build step, works offline
// right after `npm install`); command modules are loaded lazily so `--help` stays fast.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
