import { z } from "zod";
import { CanaryViewSchema } from "./canary-shapes";
import { defineCommand } from "./define";

export const launchCanaryCommand = defineCommand({
  type: "launch_canary",
  summary: "bring up a streaming hot-standby canary of the primary (local pg_basebackup or mxc microVM); idempotent",
  mutating: true,
  // A base backup of a large primary, or a microVM boot, takes minutes.
  timeoutMs: 15 * 60_000,
  payload: z.object({}).strict(),
  result: z.object({
    canary: CanaryViewSchema,
    /** False when a live canary was already there. */
    launched: z.boolean(),
    launchMs: z.number(),
  }),
});
