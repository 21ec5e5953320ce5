/**
 * What the runner knows about the rollout on its host, persisted in the state dir so a runner
 * restart (or a repeated command) picks up where it was: the canary (which backend, where),
 * who the primary is now (it moves at switchover), the current split, and the last time the
 * runner routed traffic back on its own.
 */
import { join } from "node:path";
import { z } from "zod";
import { jsonState, type JsonState } from "../state/json-state";

const host = z.string().min(1);
const port = z.number().int().min(1).max(65535);

export const LocalCanarySchema = z.object({
  backend: z.literal("local"),
  host,
  port,
  /** The canary's own directory (data/ and server.log inside); removed at teardown. */
  dir: z.string().min(1),
  dataDir: z.string().min(1),
  logFile: z.string().min(1),
});
export const MxcCanarySchema = z.object({
  backend: z.literal("mxc"),
  host,
  port,
  workloadId: z.string().min(1),
});
export const CanaryRecordSchema = z.discriminatedUnion("backend", [LocalCanarySchema, MxcCanarySchema]);
export type CanaryRecord = z.output<typeof CanaryRecordSchema>;
export type LocalCanary = z.output<typeof LocalCanarySchema>;

export const RoutedBackSchema = z.object({ at: z.string(), reason: z.string(), fromPct: z.number() });
export type RoutedBack = z.output<typeof RoutedBackSchema>;

export const RolloutStateSchema = z.object({
  canary: CanaryRecordSchema.optional(),
  canaryLaunchedAt: z.string().optional(),
  /** Set by a switchover: the promoted node is the primary from then on (else the target URL's). */
  primary: z.object({ host, port }).optional(),
  /** The former primary, now a standby of the new one (or torn down). */
  formerPrimary: z.object({ host, port, dataDir: z.string().optional(), role: z.enum(["standby", "stopped"]) }).optional(),
  routing: z.object({ canaryPct: z.number(), canarySlots: z.number().int(), at: z.string() }).optional(),
  routedBack: RoutedBackSchema.optional(),
});
export type RolloutState = z.output<typeof RolloutStateSchema>;

export function rolloutState(stateDir: string): JsonState<RolloutState> {
  return jsonState(join(stateDir, "rollout.json"), RolloutStateSchema);
}
