/**
 * Every error the API returns has one shape: {"error": "<what went wrong>", "details"?: …}.
 * Bad input is a 400 that says which field and why; never a 500.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

export interface ErrorBody {
  error: string;
  details?: unknown;
}

export class ApiError extends HTTPException {
  readonly details: unknown;
  constructor(status: ContentfulStatusCode, message: string, details?: unknown) {
    super(status, { message });
    this.details = details;
  }
}

/** zod issues as [{path: "a.b[0]", message}] so a client sees which field is wrong. */
export function describeZodIssues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "["),
    message: issue.message,
  }));
}

export function badRequest(message: string, details?: unknown): ApiError {
  return new ApiError(400, message, details);
}
