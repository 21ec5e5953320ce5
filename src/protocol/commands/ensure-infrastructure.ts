import { z } from "zod";
import { MxcInfrastructureSchema } from "./canary-shapes";
import { defineCommand } from "./define";

export const ensureInfrastructureCommand = defineCommand({
  type: "ensure_infrastructure",
  summary: "deploy the primary and PgBouncer microVMs through mxc when absent, and wait until they run",
  mutating: true,
  timeoutMs: 15 * 60_000,
  payload: z.object({}).strict(),
  result: MxcInfrastructureSchema,
});
