/**
 * POST /api/ingest: the in-VM agent (`pg2une agent --push`) delivers raw samples here.
 *
 * Authentication is the signed-command protocol (src/protocol/README.md), not the API token:
 * HMAC-SHA256 over the exact body bytes with a key from PG2UNE_RUNNER_KEYS, fresh timestamp,
 * nonce never seen before (remembered in pg2une's database, src/store/nonces.ts). Nothing about
 * the body is looked at before the signature passed.
 *
 * The body is one raw sample (src/core/metrics/sample.ts), exactly what `pg2une collect --json`
 * prints and the runner's `collect` returns; its `target` field names the target. Answers:
 *   200 {"ok": true, "status": "stored" | "duplicate", "target", "sample_id", …}
 *       a sample id already stored for the target is "duplicate" and adds nothing (agent retries)
 *   400 {"error", "reason": "invalid_json" | "invalid_sample", "details": [{path, message}]}
 *   401 {"error", "reason": "unsigned" | "malformed_auth" | "unknown_key" | "bad_signature" | "stale" | "replayed"}
 *   404 {"error", "reason": "unknown_target"}
 *   413 {"error", "reason": "body_too_large"}
 *   503 {"error", "reason": "store_unavailable"}   pg2une's database cannot be reached: retry
 * Every answer after the signature check is signed with the caller's key and bound to its
 * request (the agent verifies it); 401/413/503-before-auth are not. On any failure nothing is
 * stored (storeSample is one transaction).
 */
import type { Context } from "hono";
import { RawSampleSchema } from "../core/metrics";
import { describeIssues, parseKeyRing, signResponse, verifySignedRequest, type RequestBinding, type SigningKey } from "../protocol";
import { databaseNonceStore } from "../store/nonces";
import { storeSample } from "../store/samples";
import { findTarget } from "../store/targets";
import type { App, AppEnv } from "./app";

export const INGEST_PATH = "/api/ingest";
/** A sample with 500 statements of 2000 characters is ~1.2 MB; the runner protocol's cap. */
export const MAX_INGEST_BODY_BYTES = 4 * 1024 * 1024;

export type IngestFailureReason = "invalid_json" | "invalid_sample" | "unknown_target" | "body_too_large" | "store_unavailable" | "internal";

export interface IngestFailure {
  ok: false;
  error: string;
  reason: IngestFailureReason | string;
  details?: unknown;
}

export interface IngestSuccess {
  ok: true;
  status: "stored" | "duplicate";
  target: string;
  sample_id: string;
  /** Stored only: the derived snapshot's window and headline rates (null on a first sample or a reset). */
  snapshot?: { snapshot_time: string; window_seconds: number | null; window_issue: string | null; tps: number | null; qps: number | null; reset_detected: boolean };
  /** Stored only: a later sample that was re-derived against this one (it arrived out of order). */
  rederived_sample_id?: string | null;
}

export function registerIngestRoutes(app: App): void {
  app.post(INGEST_PATH, async (c) => {
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_INGEST_BODY_BYTES) return failure(c, 413, "body_too_large", `body is ${declared} bytes; at most ${MAX_INGEST_BODY_BYTES}`);
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length > MAX_INGEST_BODY_BYTES) return failure(c, 413, "body_too_large", `body is ${body.length} bytes; at most ${MAX_INGEST_BODY_BYTES}`);

    const config = c.get("config");
    const keys = parseKeyRing(config.PG2UNE_RUNNER_KEYS);
    const url = new URL(c.req.url);
    const method = c.req.method;
    const path = url.pathname + url.search;
    const db = c.get("db")();
    let verified;
    try {
      verified = await verifySignedRequest({ method, path, headers: c.req.raw.headers, body, keys, nonces: databaseNonceStore(db) });
    } catch (err) {
      console.error(JSON.stringify({ event: "ingest_nonce_store_failed", error: String(err) }));
      return failure(c, 503, "store_unavailable", `cannot check the request's nonce (pg2une's database is unavailable): retry later`);
    }
    if (!verified.ok) {
      console.warn(JSON.stringify({ event: "ingest_auth_rejected", reason: verified.reason, message: verified.message }));
      return failure(c, 401, verified.reason, keys.size === 0 ? `${verified.message}; this Worker has no PG2UNE_RUNNER_KEYS configured` : verified.message);
    }

    const binding: RequestBinding = { method, path, nonce: verified.nonce, commandId: verified.commandId };
    const answer = (status: 200 | 400 | 404 | 500 | 503, payload: IngestSuccess | IngestFailure) => signed(verified.key, binding, status, payload);

    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch (err) {
      return answer(400, { ok: false, error: `request body is not valid JSON: ${(err as Error).message}`, reason: "invalid_json" });
    }
    const parsed = RawSampleSchema.safeParse(json);
    if (!parsed.success) {
      const details = describeIssues(parsed.error.issues);
      const first = details[0];
      return answer(400, { ok: false, error: `invalid sample: ${first?.path || "(root)"}: ${first?.message}`, reason: "invalid_sample", details });
    }
    const sample = parsed.data;
    try {
      const target = await findTarget(db, config, sample.target);
      if (!target) {
        return answer(404, { ok: false, error: `unknown target ${JSON.stringify(sample.target)}: add it with POST /api/targets, or set TARGET_NAME`, reason: "unknown_target" });
      }
      const stored = await storeSample(db, target.name, sample, "agent");
      if (stored.status === "duplicate") return answer(200, { ok: true, status: "duplicate", target: target.name, sample_id: sample.sample_id });
      const s = stored.snapshot;
      return answer(200, {
        ok: true,
        status: "stored",
        target: target.name,
        sample_id: sample.sample_id,
        snapshot: { snapshot_time: s.snapshot_time, window_seconds: s.window_seconds, window_issue: s.window_issue, tps: s.tps, qps: s.qps, reset_detected: s.reset_detected },
        rederived_sample_id: stored.rederivedSampleId,
      });
    } catch (err) {
      console.error(JSON.stringify({ event: "ingest_store_failed", target: sample.target, sample_id: sample.sample_id, error: String(err), cause: String((err as Error).cause ?? "") }));
      return answer(503, { ok: false, error: `storing the sample failed, nothing was stored; retry: ${(err as Error).message}`, reason: "store_unavailable" });
    }
  });
}

function failure(c: Context<AppEnv>, status: 401 | 413 | 503, reason: string, error: string): Response {
  return c.json({ ok: false, error, reason } satisfies IngestFailure, status);
}

async function signed(key: SigningKey, request: RequestBinding, status: number, payload: unknown): Promise<Response> {
  const text = JSON.stringify(payload);
  const headers = await signResponse({ key, request, status, body: text });
  return new Response(text, { status, headers: { ...headers, "content-type": "application/json" } });
}
