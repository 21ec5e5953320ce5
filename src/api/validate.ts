/**
 * zod validation for route inputs with our error shape: 400 {"error","details":[{path,message}]}.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { describeIssues } from "../protocol/errors";
import { badRequest } from "./errors";

export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const details = describeIssues(parsed.error.issues);
    const first = details[0];
    throw badRequest(`invalid ${what}${first ? `: ${first.path || "(root)"}: ${first.message}` : ""}`, details);
  }
  return parsed.data;
}

/** Reads and validates a JSON body; malformed JSON is a 400, not a 500. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await c.req.text());
  } catch (err) {
    throw badRequest(`request body is not valid JSON: ${(err as Error).message}`);
  }
  return parseOr400(schema, raw, "request body");
}

export function queryParams<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseOr400(schema, c.req.query(), "query parameters");
}
