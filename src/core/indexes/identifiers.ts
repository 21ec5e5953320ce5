/**
 * SQL identifiers for the indexes pg2une creates: quoting and naming.
 *
 * Every identifier that goes into DDL is quoted here, always with double quotes, so a table
 * called `Order Items` or `select` is written correctly and no name is ever pasted raw.
 *
 * @example
 *   indexNameFor("orders", ["customer_id"]);              // "pg2une_orders_customer_id"
 *   quoteIdent('Order "Items"');                            // "\"Order \"\"Items\"\"\""
 *   qualifiedName({ schema: "public", name: "orders" });    // "\"public\".\"orders\""
 */

/** Every index pg2une creates starts with this; `list` and `--drop-all-pg2une` rely on it. */
export const MANAGED_INDEX_PREFIX = "pg2une_";

/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

/** Length of the hash suffix that keeps truncated names unique. */
const HASH_HEX_DIGITS = 8;

const encoder = new TextEncoder();

/** Double-quotes an identifier, doubling embedded quotes (PostgreSQL's quote_ident, always quoting). */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error("an SQL identifier cannot be empty");
  if (name.includes("\u0000")) throw new Error("an SQL identifier cannot contain a NUL character");
  return `"${name.replaceAll('"', '""')}"`;
}

export interface QualifiedTable {
  schema: string;
  name: string;
}

export function qualifiedName(table: QualifiedTable): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/** "schema.table", the key tables are known by everywhere in the advisor (not SQL, never executed). */
export function tableKey(table: QualifiedTable): string {
  return `${table.schema}.${table.name}`;
}

export function byteLength(s: string): number {
  return encoder.encode(s).length;
}

/** FNV-1a, 32 bit: a stable, dependency-free hash for name suffixes (not for security). */
export function fnv1a32(s: string): string {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(s)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(HASH_HEX_DIGITS, "0");
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateToBytes(s: string, maxBytes: number): string {
  let out = "";
  let used = 0;
  for (const ch of s) {
    const size = byteLength(ch);
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/**
 * pg2une_<table>_<col1>_<col2>. Names longer than 63 bytes are cut and end in `_<8 hex>` of the
 * full name (schema included), so two long names that share a prefix still differ.
 */
export function indexNameFor(table: string, columns: readonly string[], schema = "public"): string {
  const full = `${MANAGED_INDEX_PREFIX}${[table, ...columns].join("_")}`;
  // An index lives in its table's schema, so the schema need not be in a name that fits.
  if (byteLength(full) <= MAX_IDENTIFIER_BYTES) return full;
  const suffix = `_${fnv1a32(`${schema}.${full}`)}`;
  return truncateToBytes(full, MAX_IDENTIFIER_BYTES - suffix.length) + suffix;
}

/** The DDL pg2une runs to build an index; every identifier quoted. */
export function createIndexDdl(index: { schema: string; table: string; columns: readonly string[]; name: string }): string {
  const cols = index.columns.map(quoteIdent).join(", ");
  return `CREATE INDEX CONCURRENTLY ${quoteIdent(index.name)} ON ${qualifiedName({ schema: index.schema, name: index.table })} (${cols})`;
}

export function dropIndexDdl(index: { schema: string; name: string }): string {
  return `DROP INDEX CONCURRENTLY IF EXISTS ${qualifiedName({ schema: index.schema, name: index.name })}`;
}

/** The text HypoPG parses for a hypothetical index (no name, no CONCURRENTLY). */
export function hypotheticalIndexDdl(index: { schema: string; table: string; columns: readonly string[] }): string {
  return `CREATE INDEX ON ${qualifiedName({ schema: index.schema, name: index.table })} (${index.columns.map(quoteIdent).join(", ")})`;
}
