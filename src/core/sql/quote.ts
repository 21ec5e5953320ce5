/**
 * Quoting for the few places where SQL text must carry a value (utility statements such as
 * ALTER SYSTEM take no bind parameters). Same rules as libpq's PQescapeLiteral /
 * PQescapeIdentifier, so the result means the same whatever standard_conforming_strings is.
 *
 * @example
 *   `ALTER SYSTEM SET ${quoteIdent("work_mem")} = ${quoteLiteral("64MB")}`
 *   // ALTER SYSTEM SET "work_mem" = '64MB'
 *   quoteLiteral("it's a \\ test") // ` E'it''s a \\\\ test'`
 */

export class SqlQuoteError extends Error {
  override name = "SqlQuoteError";
}

/** Lone UTF-16 surrogates cannot be encoded as UTF-8: the server would see other text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkText(text: string, what: string): void {
  if (text.includes("\u0000")) throw new SqlQuoteError(`${what} contains a NUL character, which PostgreSQL text cannot hold`);
  if (LONE_SURROGATE.test(text)) throw new SqlQuoteError(`${what} contains an unpaired UTF-16 surrogate (not valid Unicode)`);
}

/**
 * A string literal. Quotes are doubled; when the text has a backslash the E'' form is used with
 * backslashes doubled too, so the value is the same with standard_conforming_strings on or off.
 * The leading space of the E form keeps it from fusing with a preceding token.
 */
export function quoteLiteral(value: string): string {
  checkText(value, "literal");
  const quoted = value.replace(/'/g, "''");
  return value.includes("\\") ? ` E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`;
}

/** An identifier, always double-quoted (so case and keywords survive), `"` doubled. */
export function quoteIdent(name: string): string {
  checkText(name, "identifier");
  if (name === "") throw new SqlQuoteError("an identifier cannot be empty");
  return `"${name.replace(/"/g, '""')}"`;
}

/** A setting name (`work_mem`, `pg_stat_statements.track`): each dotted part quoted. */
export function quoteSettingName(name: string): string {
  return name.split(".").map(quoteIdent).join(".");
}
