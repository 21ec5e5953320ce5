/**
 * The exact bytes that get signed. One field per line; every field is validated to contain no
 * newline before it gets here, so two different messages can never share a canonical string.
 * The first two lines separate protocol versions and directions: a request signature can never
 * be presented as a response signature or the other way round.
 */

export const PROTOCOL_VERSION = "PG2UNE-HMAC-SHA256-V1";

export interface CanonicalRequest {
  keyId: string;
  method: string;
  /** Path plus query string exactly as sent, e.g. "/v1/commands". */
  path: string;
  /** Unix seconds. */
  timestamp: number;
  nonce: string;
  commandId: string;
  /** Lowercase hex SHA-256 of the exact body bytes. */
  bodySha256: string;
}

export function canonicalRequestString(r: CanonicalRequest): string {
  return [PROTOCOL_VERSION, "request", r.keyId, r.method, r.path, String(r.timestamp), r.nonce, r.commandId, r.bodySha256].join("\n");
}

export interface CanonicalResponse {
  keyId: string;
  /** The HTTP status of the response: a signed 200 cannot be turned into a signed 400. */
  status: number;
  /** Response timestamp (Unix seconds). */
  timestamp: number;
  /** The request this answers; its nonce binds the response to that one HTTP attempt. */
  request: { method: string; path: string; nonce: string; commandId: string };
  bodySha256: string;
}

export function canonicalResponseString(r: CanonicalResponse): string {
  return [
    PROTOCOL_VERSION,
    "response",
    r.keyId,
    String(r.status),
    r.request.method,
    r.request.path,
    String(r.timestamp),
    r.request.nonce,
    r.request.commandId,
    r.bodySha256,
  ].join("\n");
}
