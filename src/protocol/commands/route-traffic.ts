import { z } from "zod";
import { defineCommand } from "./define";

export const routeTrafficCommand = defineCommand({
  type: "route_traffic",
  summary: "send canary_pct % of read-only traffic to the canary through PgBouncer and measure the share it got",
  mutating: true,
  timeoutMs: 3 * 60_000,
  payload: z
    .object({
      canary_pct: z.number().min(0).max(100),
      /** Measurement window after the pool refilled (default 10 s). */
      measure_window_ms: z.number().int().min(500).max(120_000).optional(),
    })
    .strict(),
  result: z.object({
    canaryPct: z.number(),
    canarySlots: z.number().int(),
    slotCount: z.number().int(),
    plannedShare: z.number(),
    /** Measured from pg_stat_statements deltas on both nodes; null when unmeasured. */
    measuredShare: z.number().nullable(),
    measurement: z
      .object({
        share: z.number().nullable(),
        canaryCalls: z.number(),
        primaryCalls: z.number(),
        statements: z.number().int(),
        counterReset: z.object({ primary: z.boolean(), canary: z.boolean() }),
        windowMs: z.number(),
      })
      .nullable(),
    poolRefillMs: z.number().nullable(),
    /** Set when the canary stopped answering and every read went back to the primary. */
    routedBack: z.object({ reason: z.string(), fromPct: z.number() }).nullable(),
  }),
});
