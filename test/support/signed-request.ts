/**
 * Low-level signed requests for tests that need to tamper with them: sign like the real client,
 * let the test change headers or body bytes, send with fetch, return status, headers and body.
 */
import { COMMANDS_PATH, signRequest, verifySignedResponse, type SigningKey } from "../../src/protocol";

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> & { ok?: boolean; reason?: string; error?: string; details?: unknown; result?: unknown };
  /** The signed request as sent (after tampering). */
  sent: { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> };
  /** Whether the answer verifies against the request as originally signed. */
  verified: boolean;
}

export interface RawSendOptions {
  commandId?: string;
  /** Epoch ms the signer believes it is (stale/future tests). */
  at?: number;
  /** Change the signed request before it is sent. */
  tamper?: (req: { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> }) => void;
  path?: string;
}

export async function sendSigned(runnerUrl: string, key: SigningKey, command: unknown, opts: RawSendOptions = {}): Promise<RawAnswer> {
  const path = opts.path ?? COMMANDS_PATH;
  const commandId = opts.commandId ?? crypto.randomUUID();
  const signed = await signRequest({
    key,
    method: "POST",
    path,
    body: typeof command === "string" ? command : JSON.stringify(command),
    commandId,
    ...(opts.at !== undefined ? { now: () => opts.at! } : {}),
  });
  const req = { headers: { ...signed.headers }, body: Uint8Array.from(signed.body) };
  opts.tamper?.(req);
  return sendPrepared(runnerUrl + path, req, { key, path, nonce: signed.envelope.nonce, commandId });
}

/** Sends an already-signed request again, byte for byte (replay tests). */
export async function sendPrepared(
  url: string,
  req: { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> },
  binding: { key: SigningKey; path: string; nonce: string; commandId: string },
): Promise<RawAnswer> {
  const res = await fetch(url, { method: "POST", headers: { ...req.headers, "content-type": "application/json" }, body: req.body });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  let json: RawAnswer["json"];
  try {
    json = JSON.parse(text) as RawAnswer["json"];
  } catch {
    json = {};
  }
  const check = await verifySignedResponse({
    key: binding.key,
    request: { method: "POST", path: binding.path, nonce: binding.nonce, commandId: binding.commandId },
    status: res.status,
    headers: res.headers,
    body: bytes,
  });
  return { status: res.status, headers: res.headers, text, json, sent: req, verified: check.ok };
}
