import { z } from "zod";
import { CanaryViewSchema } from "./canary-shapes";
import { defineCommand } from "./define";

export const teardownCanaryCommand = defineCommand({
  type: "teardown_canary",
  summary: "route every read back to the primary, then stop and remove the canary; idempotent",
  mutating: true,
  timeoutMs: 2 * 60_000,
  payload: z.object({}).strict(),
  result: z.object({
    /** The canary removed, or null when there was none. */
    tornDown: CanaryViewSchema.nullable(),
    /** Traffic was still split and went back to the primary first. */
    routedBack: z.boolean(),
  }),
});
