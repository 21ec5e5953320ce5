import { z } from "zod";
import { NodeAddressSchema } from "./canary-shapes";
import { defineCommand } from "./define";

export const switchoverCommand = defineCommand({
  type: "switchover",
  summary: "promote the canary to primary: PAUSE, stop the old primary, wait for replay, pg_promote, repoint, RELOAD, RESUME",
  mutating: true,
  timeoutMs: 3 * 60_000,
  payload: z
    .object({
      /** What becomes of the old primary: a standby of the new one (default), or stopped. */
      old_primary: z.enum(["standby", "stop"]).default("standby"),
      /** Give up (RESUME, nothing changed) when PAUSE takes longer (default 5 s). */
      pause_timeout_ms: z.number().int().min(100).max(60_000).optional(),
    })
    .strict(),
  result: z.object({
    newPrimary: NodeAddressSchema,
    /** Clients were held this long: PAUSE issued → RESUME done. */
    pauseMs: z.number(),
    shutdownCheckpointLsn: z.string(),
    replayedLsn: z.string(),
    formerPrimary: NodeAddressSchema.extend({ role: z.enum(["standby", "stopped"]), rewound: z.boolean(), error: z.string().optional() }),
    steps: z.array(z.object({ step: z.string(), ms: z.number() })),
  }),
});
