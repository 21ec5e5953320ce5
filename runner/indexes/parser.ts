/**
 * The real PostgreSQL parser (libpg_query compiled to WASM, npm `libpg-query`), Node side only:
 * it does not load in workerd (it fetches its .wasm by URL), which is fine — parsing happens
 * next to the database, and src/core works on the JSON tree it returns.
 */
import { parse } from "libpg-query";
import { queryShape, type QueryShape } from "../../src/core/indexes";
import { errorMessage } from "./session";

export type ParsedQuery = { ok: true; shape: QueryShape } | { ok: false; error: string };

export async function parseQuery(sql: string): Promise<ParsedQuery> {
  try {
    return { ok: true, shape: queryShape(await parse(sql)) };
  } catch (err) {
    return { ok: false, error: `could not parse: ${errorMessage(err)}` };
  }
}
