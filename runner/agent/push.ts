/**
 * One signed push of a raw sample to the Worker's POST /api/ingest, and what the agent should do
 * with the answer. Every attempt is signed afresh (new nonce and timestamp; the command id is the
 * sample id), so retrying the same sample is never a replay, and the Worker stores a sample id
 * once however often it arrives. The Worker's answers are signed too and verified here: an answer
 * that does not verify is not trusted, and the sample is sent again.
 *
 * @example
 *   const pusher = createIngestPusher({ apiUrl: "https://pg2une.example.workers.dev", key });
 *   const outcome = await pusher.push(sample);
 *   if (outcome.kind === "retry") keepForLater(sample);
 */
import { z } from "zod";
import type { RawSample } from "../../src/core/metrics";
import { signRequest, verifySignedResponse, type SigningKey } from "../../src/protocol";

export const INGEST_PATH = "/api/ingest";
/** Per attempt: a push is one small insert on the Worker's side. */
export const DEFAULT_PUSH_TIMEOUT_MS = 30_000;

const AcceptedSchema = z.object({
  ok: z.literal(true),
  status: z.enum(["stored", "duplicate"]),
  sample_id: z.string(),
  snapshot: z.object({ tps: z.number().nullable(), window_issue: z.string().nullable() }).partial().optional(),
});
const RefusedSchema = z.object({ ok: z.literal(false), error: z.string(), reason: z.string() }).loose();

export type PushOutcome =
  /** Stored now, or already stored earlier (a retry after a lost answer). */
  | { kind: "accepted"; status: "stored" | "duplicate"; httpStatus: number; tps: number | null }
  /** The Worker refused this sample for good (malformed, too large): sending it again cannot help. */
  | { kind: "rejected"; httpStatus: number; reason: string; error: string }
  /** Not delivered for now (network, 5xx, unknown target, key or clock trouble): keep it and try again. */
  | { kind: "retry"; httpStatus: number | null; reason: string; error: string };

export interface IngestPusherOptions {
  /** The pg2une API's base URL (https://…), or the full …/api/ingest URL. */
  apiUrl: string;
  key: SigningKey;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface IngestPusher {
  readonly endpoint: string;
  push(sample: RawSample, signal?: AbortSignal): Promise<PushOutcome>;
}

/** …/api/ingest under the API's base URL (which may carry a path prefix). */
export function ingestEndpoint(apiUrl: string): URL {
  const base = new URL(apiUrl);
  if (base.pathname.endsWith(INGEST_PATH)) return base;
  return new URL(INGEST_PATH.slice(1), base.href.endsWith("/") ? base.href : `${base.href}/`);
}

export function createIngestPusher(opts: IngestPusherOptions): IngestPusher {
  const endpoint = ingestEndpoint(opts.apiUrl);
  const path = endpoint.pathname + endpoint.search;
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;

  return {
    endpoint: endpoint.href,
    async push(sample, signal) {
      const signed = await signRequest({ key: opts.key, method: "POST", path, body: JSON.stringify(sample), commandId: sample.sample_id });
      const request = { method: "POST", path, nonce: signed.envelope.nonce, commandId: sample.sample_id };
      const timeout = AbortSignal.timeout(timeoutMs);
      let res: Response;
      let bytes: Uint8Array;
      try {
        res = await doFetch(endpoint.href, {
          method: "POST",
          headers: { ...signed.headers, "content-type": "application/json" },
          body: signed.body,
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        bytes = new Uint8Array(await res.arrayBuffer());
      } catch (err) {
        const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(err);
        return { kind: "retry", httpStatus: null, reason: "unreachable", error: `${endpoint.href}: ${why}` };
      }
      const json = decode(bytes);
      // Answers that decide a sample's fate (200 accepted, 400 rejected, 404) come only after the
      // Worker accepted our signature and are signed; 401/413 and failures before that cannot be.
      const mustBeSigned = res.status === 200 || res.status === 400 || res.status === 404 || res.headers.has("x-pg2une-signature");
      if (mustBeSigned) {
        const check = await verifySignedResponse({ key: opts.key, request, status: res.status, headers: res.headers, body: bytes });
        if (!check.ok) {
          return { kind: "retry", httpStatus: res.status, reason: "unverified_answer", error: `the answer (HTTP ${res.status}) does not verify (${check.reason}): ${check.message}` };
        }
      }
      if (res.status === 200) {
        const ok = AcceptedSchema.safeParse(json);
        if (ok.success && ok.data.sample_id === sample.sample_id) {
          return { kind: "accepted", status: ok.data.status, httpStatus: 200, tps: ok.data.snapshot?.tps ?? null };
        }
        return { kind: "retry", httpStatus: 200, reason: "malformed_answer", error: "HTTP 200 without an ingest result for this sample" };
      }
      const refused = RefusedSchema.safeParse(json);
      const reason = refused.success ? refused.data.reason : `http_${res.status}`;
      const error = refused.success ? refused.data.error : `HTTP ${res.status}`;
      if (res.status === 400 || res.status === 413) return { kind: "rejected", httpStatus: res.status, reason, error };
      return { kind: "retry", httpStatus: res.status, reason, error };
    },
  };
}

function decode(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

function describeNetworkError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? String(err)} (${cause})` : (e.message ?? String(err));
}
