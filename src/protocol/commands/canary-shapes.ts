/**
 * Shapes shared by the canary and infrastructure commands (DESIGN.md, "Rollout"): where a node
 * is, what the canary is, how traffic is split, and what the mxc coordinator says.
 */
import { z } from "zod";

export const NodeAddressSchema = z.object({ host: z.string(), port: z.number().int() });

export const CanaryViewSchema = z.object({
  backend: z.enum(["local", "mxc"]),
  host: z.string(),
  port: z.number().int(),
  launchedAt: z.string().nullable(),
  /** mxc only: the replica microVM's workload id. */
  workloadId: z.string().optional(),
});

export const RoutingStateSchema = z.object({ canaryPct: z.number(), canarySlots: z.number().int(), at: z.string() });
export const RoutedBackSchema = z.object({ at: z.string(), reason: z.string(), fromPct: z.number() });

const WorkloadPartSchema = z.object({
  workloadId: z.string().nullable(),
  status: z.enum(["absent", "pending", "starting", "running", "stopping", "stopped", "failed"]),
  ip: z.string().nullable(),
  error: z.string().nullable(),
  /** ensure_infrastructure only: this call deployed it. */
  deployed: z.boolean().optional(),
});
export const MxcInfrastructureSchema = z.object({ primary: WorkloadPartSchema, pgbouncer: WorkloadPartSchema });
