/**
 * Client for the mxc coordinator: create a workload (a microVM or a process), poll it until it
 * runs, read its address, stop it.
 *
 * @example
 *   const mxc = createMxcClient(mxcConfigFromEnv(process.env));
 *   const vm = await mxc.createWorkload({ type: "microvm", command: "pg2une-postgres-replica-x86_64",
 *                                         cpu_required: 4, memory_required: 2048 });
 *   const running = await mxc.waitUntilRunning(vm.id);
 *   console.log(running.ip);
 *   await mxc.stopWorkload(vm.id);
 */
import { z } from "zod";
import { CreateWorkloadSchema, ErrorEnvelopeSchema, WorkloadEnvelopeSchema, type CreateWorkloadInput, type Workload, type WorkloadStatus } from "./schemas";

export const DEFAULT_MXC_COORDINATOR = "http://localhost:4000";
/** How long a workload may take to reach `running` (a microVM boots PostgreSQL + basebackup). */
export const DEFAULT_RUNNING_TIMEOUT_MS = 300_000;
export const DEFAULT_POLL_INTERVAL_MS = 2_000;
/** One HTTP request to the coordinator. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export const MxcConfigSchema = z.object({
  baseUrl: z.url().default(DEFAULT_MXC_COORDINATOR),
  token: z.string().min(1).optional(),
  requestTimeoutMs: z.number().int().positive().default(DEFAULT_REQUEST_TIMEOUT_MS),
});
export type MxcConfig = z.output<typeof MxcConfigSchema>;

/** MXC_COORDINATOR and MXC_API_TOKEN, as the seed names them. */
export function mxcConfigFromEnv(env: Record<string, string | undefined>): MxcConfig {
  const parsed = MxcConfigSchema.safeParse({
    baseUrl: env.MXC_COORDINATOR || undefined,
    token: env.MXC_API_TOKEN || undefined,
  });
  if (!parsed.success) throw new MxcError(`MXC_COORDINATOR is not a URL: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export class MxcError extends Error {
  override name = "MxcError";
  constructor(
    message: string,
    readonly status?: number,
    readonly workloadId?: string,
  ) {
    super(message);
  }
}

/** The workload ended in `failed` (or stopped) instead of running; `message` is the coordinator's. */
export class MxcWorkloadFailedError extends MxcError {
  override name = "MxcWorkloadFailedError";
  constructor(
    readonly workload: Workload,
    readonly coordinatorMessage: string | undefined,
  ) {
    super(
      `mxc workload ${workload.id} ${workload.status} before it ran${coordinatorMessage ? `: ${coordinatorMessage}` : " (the coordinator gave no reason)"}`,
      undefined,
      workload.id,
    );
  }
}

export class MxcTimeoutError extends MxcError {
  override name = "MxcTimeoutError";
  constructor(
    override readonly workloadId: string,
    readonly lastStatus: WorkloadStatus | undefined,
    timeoutMs: number,
  ) {
    super(`mxc workload ${workloadId} did not reach running with an address within ${timeoutMs} ms (last status: ${lastStatus ?? "unknown"})`, undefined, workloadId);
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
}

export interface MxcClient {
  readonly baseUrl: string;
  createWorkload(input: CreateWorkloadInput): Promise<Workload>;
  getWorkload(id: string): Promise<Workload>;
  /** Undefined when the coordinator does not know the id (404). */
  findWorkload(id: string): Promise<Workload | undefined>;
  stopWorkload(id: string): Promise<Workload>;
  /** Polls until `running` with an ip; throws MxcWorkloadFailedError or MxcTimeoutError. */
  waitUntilRunning(id: string, opts?: WaitOptions): Promise<Workload & { ip: string }>;
}

export function createMxcClient(config: Partial<MxcConfig> = {}, fetchImpl: typeof fetch = fetch): MxcClient {
  const { baseUrl, token, requestTimeoutMs } = MxcConfigSchema.parse(config);
  const root = baseUrl.replace(/\/+$/, "");

  async function request(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetchImpl(`${root}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (err) {
      throw new MxcError(`mxc coordinator at ${root} unreachable (${method} ${path}): ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    if (res.status === 401 || res.status === 403) {
      throw new MxcError(`mxc coordinator refused ${method} ${path} (${res.status}): ${token ? "MXC_API_TOKEN was not accepted" : "set MXC_API_TOKEN"}`, res.status);
    }
    return { status: res.status, json };
  }

  function workloadFrom(status: number, json: unknown, what: string, id?: string): Workload {
    if (status >= 200 && status < 300) {
      const parsed = WorkloadEnvelopeSchema.safeParse(json);
      if (parsed.success) return parsed.data.data;
      throw new MxcError(`mxc coordinator answered ${what} with an unexpected body: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`, status, id);
    }
    throw new MxcError(`mxc coordinator: ${what} failed (${status}): ${errorText(json)}`, status, id);
  }

  const client: MxcClient = {
    baseUrl: root,
    async createWorkload(input) {
      const parsed = CreateWorkloadSchema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new MxcError(`invalid workload: ${issue?.path.join(".")}: ${issue?.message}`);
      }
      const body = parsed.data;
      const { status, json } = await request("POST", "/api/workloads", body);
      return workloadFrom(status, json, `create ${body.type} ${body.command}`);
    },
    async getWorkload(id) {
      const { status, json } = await request("GET", `/api/workloads/${encodeURIComponent(id)}`);
      return workloadFrom(status, json, `get workload ${id}`, id);
    },
    async findWorkload(id) {
      const { status, json } = await request("GET", `/api/workloads/${encodeURIComponent(id)}`);
      if (status === 404) return undefined;
      return workloadFrom(status, json, `get workload ${id}`, id);
    },
    async stopWorkload(id) {
      const { status, json } = await request("POST", `/api/workloads/${encodeURIComponent(id)}/stop`);
      return workloadFrom(status, json, `stop workload ${id}`, id);
    },
    async waitUntilRunning(id, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_RUNNING_TIMEOUT_MS;
      const pollMs = opts.pollMs ?? DEFAULT_POLL_INTERVAL_MS;
      const deadline = Date.now() + timeoutMs;
      let last: Workload | undefined;
      for (;;) {
        last = await client.getWorkload(id);
        if (last.status === "running" && last.ip) return { ...last, ip: last.ip };
        if (last.status === "failed" || last.status === "stopped" || last.status === "stopping") {
          throw new MxcWorkloadFailedError(last, last.error ?? undefined);
        }
        if (Date.now() + pollMs > deadline) throw new MxcTimeoutError(id, last.status, timeoutMs);
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
  };
  return client;
}

function errorText(json: unknown): string {
  const parsed = ErrorEnvelopeSchema.safeParse(json);
  const error = parsed.success ? parsed.data.error : json;
  if (typeof error === "string") return error;
  return JSON.stringify(error) ?? "no details";
}
