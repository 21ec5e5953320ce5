/**
 * The mxc-hosted infrastructure pg2une runs on: a primary PostgreSQL microVM and a PgBouncer
 * microVM (the canary replica is launched per rollout by the canary backend). ensure deploys
 * what is absent and waits for it; status reports what the coordinator says about each.
 *
 * @example
 *   const infra = await ensureInfrastructure({ mxc, state: infrastructureState(stateDir), arch: "x86_64" });
 *   infra.primary.ip; // the primary VM's address
 */
import { join } from "node:path";
import { z } from "zod";
import { jsonState, type JsonState } from "../state/json-state";
import type { MxcClient, WaitOptions } from "./client";
import type { CreateWorkloadInput, Workload, WorkloadStatus } from "./schemas";

/** The microVM configurations pg2une deploys, named `pg2une-<role>-<arch>`. */
export type VmRole = "postgres" | "postgres-replica" | "pgbouncer";

/** Sizes from the seed's microVM definitions (priv/nix). */
export const VM_SIZES: Readonly<Record<VmRole, { cpu: number; memoryMb: number }>> = {
  postgres: { cpu: 4, memoryMb: 2048 },
  "postgres-replica": { cpu: 4, memoryMb: 2048 },
  pgbouncer: { cpu: 1, memoryMb: 256 },
};

/** Node's arch names → the Nix system names the microVM configs use. */
export function mxcArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };
  return map[nodeArch] ?? nodeArch;
}

export function microvmConfigName(role: VmRole, arch: string): string {
  return `pg2une-${role}-${arch}`;
}

export function microvmWorkload(role: VmRole, arch: string, env: Record<string, string> = {}): CreateWorkloadInput {
  const size = VM_SIZES[role];
  return {
    type: "microvm",
    command: microvmConfigName(role, arch),
    args: [],
    env,
    cpu_required: size.cpu,
    memory_required: size.memoryMb,
    constraints: { microvm: "true" },
  };
}

export const InfrastructureStateSchema = z.object({
  primary: z.object({ workloadId: z.string() }).optional(),
  pgbouncer: z.object({ workloadId: z.string() }).optional(),
});
export type InfrastructureState = z.output<typeof InfrastructureStateSchema>;

export function infrastructureState(stateDir: string): JsonState<InfrastructureState> {
  return jsonState(join(stateDir, "infrastructure.json"), InfrastructureStateSchema);
}

const INFRA_ROLES = { primary: "postgres", pgbouncer: "pgbouncer" } as const satisfies Record<keyof InfrastructureState, VmRole>;
type InfraPart = keyof typeof INFRA_ROLES;

/** Statuses of a workload that is there or on its way (so ensure must not deploy another). */
const LIVE_STATUSES: ReadonlySet<WorkloadStatus> = new Set(["pending", "starting", "running"]);

export const InfraPartStatusSchema = z.object({
  workloadId: z.string().nullable(),
  status: z.enum(["absent", "pending", "starting", "running", "stopping", "stopped", "failed"]),
  ip: z.string().nullable(),
  error: z.string().nullable(),
  /** ensure only: this call deployed it. */
  deployed: z.boolean().optional(),
});
export type InfraPartStatus = z.output<typeof InfraPartStatusSchema>;
export const InfrastructureStatusSchema = z.object({ primary: InfraPartStatusSchema, pgbouncer: InfraPartStatusSchema });
export type InfrastructureStatus = z.output<typeof InfrastructureStatusSchema>;

export interface InfrastructureDeps {
  mxc: MxcClient;
  state: JsonState<InfrastructureState>;
  arch: string;
}

function partStatus(w: Workload | undefined, deployed?: boolean): InfraPartStatus {
  if (!w) return { workloadId: null, status: "absent", ip: null, error: null };
  return { workloadId: w.id, status: w.status, ip: w.ip ?? null, error: w.error ?? null, ...(deployed === undefined ? {} : { deployed }) };
}

export async function infrastructureStatus({ mxc, state }: Omit<InfrastructureDeps, "arch">): Promise<InfrastructureStatus> {
  const recorded = state.read() ?? {};
  const look = async (part: InfraPart) => {
    const id = recorded[part]?.workloadId;
    return partStatus(id ? await mxc.findWorkload(id) : undefined);
  };
  return { primary: await look("primary"), pgbouncer: await look("pgbouncer") };
}

/**
 * Deploys the primary and PgBouncer microVMs when absent (never recorded, unknown to the
 * coordinator, stopped or failed) and waits until both run. A workload that fails is reported
 * with the coordinator's message; the primary is deployed first because PgBouncer points at it.
 */
export async function ensureInfrastructure(deps: InfrastructureDeps, wait: WaitOptions = {}): Promise<InfrastructureStatus> {
  const { mxc, state, arch } = deps;
  const ensurePart = async (part: InfraPart, env: Record<string, string>): Promise<InfraPartStatus> => {
    const recorded = state.read() ?? {};
    const id = recorded[part]?.workloadId;
    const existing = id ? await mxc.findWorkload(id) : undefined;
    let workload = existing && LIVE_STATUSES.has(existing.status) ? existing : undefined;
    const deployed = !workload;
    if (!workload) {
      workload = await mxc.createWorkload(microvmWorkload(INFRA_ROLES[part], arch, env));
      await state.write({ ...(state.read() ?? {}), [part]: { workloadId: workload.id } });
    }
    return partStatus(await mxc.waitUntilRunning(workload.id, wait), deployed);
  };
  const primary = await ensurePart("primary", {});
  const pgbouncer = await ensurePart("pgbouncer", { PG2UNE_PRIMARY_HOST: primary.ip ?? "" });
  return { primary, pgbouncer };
}
