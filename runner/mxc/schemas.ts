/**
 * The mxc coordinator's REST contract (DESIGN.md, "Runner"): what we send and what we accept
 * back. Responses are wrapped as `{ "data": workload }`, errors as `{ "error": ... }`.
 */
import { z } from "zod";

export const WORKLOAD_STATUSES = ["pending", "starting", "running", "stopping", "stopped", "failed"] as const;
export const WorkloadStatusSchema = z.enum(WORKLOAD_STATUSES);
export type WorkloadStatus = z.output<typeof WorkloadStatusSchema>;

export const WorkloadTypeSchema = z.enum(["microvm", "process"]);

/** POST /api/workloads body. For a microVM, `command` is the microVM config name. */
export const CreateWorkloadSchema = z.object({
  type: WorkloadTypeSchema,
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cpu_required: z.number().int().positive(),
  memory_required: z.number().int().positive(),
  constraints: z.record(z.string(), z.string()).default({}),
});
export type CreateWorkloadInput = z.input<typeof CreateWorkloadSchema>;

export const WorkloadSchema = z.looseObject({
  id: z.string().min(1),
  type: WorkloadTypeSchema.optional(),
  status: WorkloadStatusSchema,
  command: z.string().optional(),
  ip: z.string().nullish(),
  error: z.string().nullish(),
  node_id: z.string().nullish(),
});
export type Workload = z.output<typeof WorkloadSchema>;

export const WorkloadEnvelopeSchema = z.object({ data: WorkloadSchema });
export const ErrorEnvelopeSchema = z.object({ error: z.unknown() });
