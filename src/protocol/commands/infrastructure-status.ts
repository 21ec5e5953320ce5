import { z } from "zod";
import { CanaryViewSchema, MxcInfrastructureSchema, NodeAddressSchema, RoutedBackSchema, RoutingStateSchema } from "./canary-shapes";
import { defineCommand } from "./define";

export const infrastructureStatusCommand = defineCommand({
  type: "infrastructure_status",
  summary: "primary, canary, traffic split and mxc workloads as this runner knows them",
  mutating: false,
  timeoutMs: 30_000,
  payload: z.object({}).strict(),
  result: z.object({
    primary: NodeAddressSchema,
    canary: CanaryViewSchema.extend({ answering: z.boolean() }).nullable(),
    canaryBackend: z.enum(["local", "mxc"]),
    routing: RoutingStateSchema.nullable(),
    /** The last time traffic went back to the primary on its own (canary stopped answering). */
    routedBack: RoutedBackSchema.nullable(),
    formerPrimary: NodeAddressSchema.extend({ role: z.enum(["standby", "stopped"]) }).nullable(),
    /** null when no mxc coordinator is configured (local canaries only). */
    mxc: MxcInfrastructureSchema.nullable(),
    /** Whether PgBouncer routing is configured on this runner. */
    routingConfigured: z.boolean(),
  }),
});
