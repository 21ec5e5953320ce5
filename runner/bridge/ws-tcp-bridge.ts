/**
 * WebSocket → TCP bridge so the Neon serverless driver (which speaks the PostgreSQL wire protocol
 * over a WebSocket) reaches an ordinary local PostgreSQL. Used by `pg2une dev` and the Worker
 * tests; in production Neon's own proxy plays this part.
 *
 * The Worker sets neonConfig.wsProxy = (host, port) => `<bridge>/v1?address=${host}:${port}`,
 * useSecureWebSocket = false, pipelineConnect = false. The bridge only forwards to addresses on
 * its allow-list (loopback by default), so it is never an open proxy.
 *
 * @example
 *   const bridge = await startBridge({ port: 0 });
 *   // NEON_WS_PROXY = `127.0.0.1:${bridge.port}`
 *   await bridge.close();
 */
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface BridgeOptions {
  host?: string;
  port?: number;
  /** Which destination hosts may be reached. Default: loopback only. */
  allowHost?: (host: string) => boolean;
}

export interface RunningBridge {
  host: string;
  port: number;
  /** Value for NEON_WS_PROXY ("host:port"). */
  proxy: string;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "::1" || host === "localhost";
}

export function startBridge(opts: BridgeOptions = {}): Promise<RunningBridge> {
  const host = opts.host ?? "127.0.0.1";
  const allowHost = opts.allowHost ?? isLoopback;
  const http: Server = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket upgrade required\n");
  });
  const wss = new WebSocketServer({ server: http });
  const sockets = new Set<WebSocket>();
  wss.on("connection", (ws, req) => {
    sockets.add(ws);
    ws.on("close", () => sockets.delete(ws));
    const address = new URL(req.url ?? "/", "http://bridge").searchParams.get("address") ?? "";
    const match = /^(.+):(\d+)$/.exec(address);
    if (!match || !allowHost(match[1]!)) {
      ws.close(1008, `address not allowed: ${address}`);
      return;
    }
    const tcp = connect({ host: match[1]!, port: Number(match[2]) });
    const pending: Buffer[] = [];
    let open = false;
    tcp.on("connect", () => {
      open = true;
      for (const chunk of pending) tcp.write(chunk);
      pending.length = 0;
    });
    tcp.on("data", (data) => ws.send(data));
    tcp.on("close", () => ws.close());
    tcp.on("error", () => ws.close(1011, "upstream connection failed"));
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (open) tcp.write(chunk);
      else pending.push(chunk);
    });
    ws.on("close", () => tcp.destroy());
    ws.on("error", () => tcp.destroy());
  });
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.port ?? 0, host, () => {
      const addr = http.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      resolve({
        host,
        port,
        proxy: `${host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const ws of sockets) ws.terminate();
            wss.close();
            http.close(() => done());
          }),
      });
    });
  });
}
