/**
 * A stand-in for the mxc coordinator (which cannot run here: it boots microVMs), implementing
 * the documented contract over real HTTP: POST /api/workloads, GET /api/workloads/:id,
 * POST /api/workloads/:id/stop, Bearer auth, `{data: workload}` / `{error}` bodies, the status
 * lifecycle pending → starting → running (or failed), and an ip once running. Addresses handed
 * out are loopback only (127.0.0.x).
 *
 * How each workload behaves is chosen by its `command` (the microVM config name), so a test
 * can make one boot, one fail and one hang.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { CreateWorkloadSchema } from "../../runner/mxc/schemas";
import { freePort } from "../../runner/net/ports";

export type Behaviour =
  /** pending, starting …, then running with an ip after `pollsUntilRunning` GETs. */
  | {
      kind: "boots";
      pollsUntilRunning: number;
      ip?: string;
      /** Runs as the workload becomes running (a test can start a real server at its ip). */
      onRunning?: (w: { id: string; ip: string; env: Record<string, string> }) => Promise<void>;
      onStop?: (w: { id: string; ip: string | null }) => Promise<void>;
    }
  /** starting, then failed with the coordinator's `error` message. */
  | { kind: "fails"; pollsUntilFailed: number; error: string }
  /** stays `starting` forever. */
  | { kind: "hangs" };

interface Stored {
  id: string;
  type: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cpu_required: number;
  memory_required: number;
  constraints: Record<string, string>;
  status: string;
  ip: string | null;
  error: string | null;
  polls: number;
  behaviour: Behaviour;
}

export interface FakeCoordinator {
  url: string;
  token: string;
  /** Every request seen: method, path, whether it carried the right token. */
  requests: Array<{ method: string; path: string; authorized: boolean }>;
  workloads: Map<string, Stored>;
  close(): Promise<void>;
}

export async function startFakeCoordinator(opts: { behaviours?: Record<string, Behaviour>; defaultBehaviour?: Behaviour } = {}): Promise<FakeCoordinator> {
  const token = randomUUID();
  const workloads = new Map<string, Stored>();
  const requests: FakeCoordinator["requests"] = [];
  let nextIp = 10;
  const behaviourFor = (command: string): Behaviour => opts.behaviours?.[command] ?? opts.defaultBehaviour ?? { kind: "boots", pollsUntilRunning: 1 };

  const view = (w: Stored) => {
    const { polls: _p, behaviour: _b, ...rest } = w;
    return rest;
  };

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const authorized = req.headers.authorization === `Bearer ${token}`;
    requests.push({ method: req.method ?? "", path, authorized });
    if (!authorized) return send(401, { error: "Unauthorized" });

    if (req.method === "POST" && path === "/api/workloads") {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(422, { error: "invalid JSON" });
      }
      const parsed = CreateWorkloadSchema.safeParse(body);
      if (!parsed.success) return send(422, { error: Object.fromEntries(parsed.error.issues.map((i) => [i.path.join("."), [i.message]])) });
      const w: Stored = { id: randomUUID(), ...parsed.data, status: "pending", ip: null, error: null, polls: 0, behaviour: behaviourFor(parsed.data.command) };
      workloads.set(w.id, w);
      return send(201, { data: view(w) });
    }

    const match = /^\/api\/workloads\/([^/]+)(\/stop)?$/.exec(path);
    const w = match ? workloads.get(decodeURIComponent(match[1]!)) : undefined;
    if (match && !w) return send(404, { error: "Workload not found" });
    if (w && req.method === "GET" && !match![2]) {
      try {
        await advance(w);
      } catch (err) {
        w.status = "failed";
        w.error = (err as Error).message;
      }
      return send(200, { data: view(w) });
    }
    if (w && req.method === "POST" && match![2]) {
      if (w.status === "stopped" || w.status === "failed") return send(422, { error: "Workload is not in a stoppable state" });
      w.status = "stopped";
      if (w.behaviour.kind === "boots" && w.behaviour.onStop) await w.behaviour.onStop({ id: w.id, ip: w.ip });
      return send(200, { data: view(w) });
    }
    return send(404, { error: "not found" });
  });

  async function advance(w: Stored): Promise<void> {
    if (w.status === "stopped" || w.status === "failed" || w.status === "running") return;
    w.polls += 1;
    const b = w.behaviour;
    if (b.kind === "hangs") {
      w.status = "starting";
    } else if (b.kind === "fails") {
      w.status = w.polls >= b.pollsUntilFailed ? "failed" : "starting";
      if (w.status === "failed") w.error = b.error;
    } else if (w.polls >= b.pollsUntilRunning) {
      const ip = b.ip ?? `127.0.0.${nextIp++}`;
      if (b.onRunning) await b.onRunning({ id: w.id, ip, env: w.env });
      w.status = "running";
      w.ip = ip;
    } else {
      w.status = "starting";
    }
  }

  const port = await freePort("127.0.0.1");
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    workloads,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
