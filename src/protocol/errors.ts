/**
 * Why a signed message was refused. Every refusal carries a machine-readable reason and a
 * message a human can act on; the HTTP body is `{"error": message, "reason": reason}`.
 */

export const AUTH_FAILURE_REASONS = [
  /** No signature headers at all. */
  "unsigned",
  /** Signature headers present but not well-formed (or a header sent twice). */
  "malformed_auth",
  /** The key id is not in the verifier's key ring. */
  "unknown_key",
  /** The HMAC does not match: wrong secret, or a signed field or the body was altered. */
  "bad_signature",
  /** The timestamp is further from the verifier's clock than the allowed skew. */
  "stale",
  /** This nonce was already accepted inside the freshness window. */
  "replayed",
] as const;

export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export interface AuthFailure {
  ok: false;
  reason: AuthFailureReason;
  message: string;
}

export function authFailure(reason: AuthFailureReason, message: string): AuthFailure {
  return { ok: false, reason, message };
}

/** Reasons the runner gives for non-auth refusals (4xx/5xx after a valid signature). */
export const COMMAND_FAILURE_REASONS = [
  "invalid_json",
  "invalid_payload",
  "unknown_command",
  "not_implemented",
  "invalid_config",
  "apply_failed",
  "command_id_conflict",
  "body_too_large",
  "timeout",
  "target_unavailable",
  "nonce_store_full",
  "internal",
  /** A command needs a running canary (launch_canary first; collect with node "canary") or a routing setup this runner lacks. */
  "no_canary",
  "routing_unavailable",
  /** Launching the canary failed (base backup, start, mxc workload); nothing is left running. */
  "canary_failed",
  /** A switchover gave up before promoting; the old primary serves again and clients resumed. */
  "switchover_aborted",
  /** The mxc coordinator refused or a workload failed. */
  "mxc_failed",
] as const;

export type CommandFailureReason = (typeof COMMAND_FAILURE_REASONS)[number];

/** zod issues as [{path: "a.b[0]", message}] so a caller sees which field is wrong. */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): Array<{ path: string; message: string }> {
  return issues.map((issue) => ({
    path: issue.path
      .map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
      .join(".")
      .replace(/\.\[/g, "["),
    message: issue.message,
  }));
}
