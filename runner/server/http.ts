/**
 * The runner's HTTP server. `GET /healthz` is unauthenticated and says nothing secret; every
 * other route requires a signed command (added by the protocol layer).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { VERSION } from "../../src/version";
import type { RunnerConfig } from "../config";
import { log } from "./log";

export interface RunningRunner {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface RouteResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as it is (signed responses must go out byte for byte); anything else as JSON. */
  body: unknown;
}

export type RouteHandler = (req: IncomingMessage, body: Buffer) => Promise<RouteResponse>;

export async function startRunnerServer(config: RunnerConfig, routes: Record<string, RouteHandler> = {}): Promise<RunningRunner> {
  const startedAt = Date.now();
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      log("error", "request_failed", { path: req.url, error: String(err) });
      send(res, 500, { error: "internal error" });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? "/", "http://runner").pathname;
    if (req.method === "GET" && path === "/healthz") {
      send(res, 200, { status: "ok", app: "pg2une-runner", version: VERSION, uptime_s: Math.round((Date.now() - startedAt) / 1000) });
      return;
    }
    const handler = routes[`${req.method} ${path}`];
    if (!handler) {
      send(res, 404, { error: `no route for ${req.method} ${path}` });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        send(res, 413, { ok: false, error: err.message, reason: "body_too_large" }, { connection: "close" });
        return;
      }
      throw err;
    }
    const result = await handler(req, body);
    send(res, result.status, result.body, result.headers);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new Error(`port ${config.port} on ${config.host} is already in use: stop what is there or pass --port`)
          : err,
      ),
    );
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  log("info", "runner_listening", { url });
  return {
    url,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Commands are small JSON documents; anything larger is refused before it is buffered. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError(`request body is larger than ${MAX_BODY_BYTES} bytes`));
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent) return;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}
