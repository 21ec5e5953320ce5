/**
 * Bearer-token check for the REST API. Constant-time comparison so the token cannot be guessed
 * byte by byte from response timings.
 */
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors";

export function timingSafeEqualStrings(a: string, b: string): boolean {
  const enc = new TextEncoder();
  const x = enc.encode(a);
  const y = enc.encode(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i % (x.length || 1)] ?? 0) ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}

export function requireApiToken(getToken: (c: Parameters<MiddlewareHandler>[0]) => string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) throw new ApiError(401, "missing API token: send `Authorization: Bearer <PG2UNE_API_TOKEN>`");
    if (!timingSafeEqualStrings(match[1]!.trim(), getToken(c))) throw new ApiError(401, "invalid API token");
    await next();
  };
}
