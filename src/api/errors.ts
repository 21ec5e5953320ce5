/**
 * Every error the API returns has one shape: {"error": "<what went wrong>", "details"?: …}.
 * Bad input is a 400 that says which field and why; never a 500.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

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

export function badRequest(message: string, details?: unknown): ApiError {
  return new ApiError(400, message, details);
}
