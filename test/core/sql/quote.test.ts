import { describe, expect, it } from "vitest";
import { quoteIdent, quoteLiteral, quoteSettingName, SqlQuoteError } from "../../../src/core/sql/quote";

// Round-trips through a real server are in test/runner/sql-quote.test.ts.
describe("quoteLiteral / quoteIdent", () => {
  it.each([
    ["64MB", "'64MB'"],
    ["", "''"],
    ["it's", "'it''s'"],
    ["'; drop table t; --", "'''; drop table t; --'"],
    ["back\\slash", " E'back\\\\slash'"],
    ["\\'", " E'\\\\'''"],
    ["$$ dollar $$", "'$$ dollar $$'"],
  ])("literal %j → %s", (input, expected) => {
    expect(quoteLiteral(input)).toBe(expected);
  });

  it("refuses text PostgreSQL cannot hold", () => {
    expect(() => quoteLiteral("a\u0000b")).toThrow(SqlQuoteError);
    expect(() => quoteLiteral("\uD800")).toThrow(/surrogate/);
    expect(() => quoteIdent("")).toThrow(/empty/);
  });

  it("identifiers are always quoted, quotes doubled; setting names per dotted part", () => {
    expect(quoteIdent("work_mem")).toBe('"work_mem"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteSettingName("pg_stat_statements.track")).toBe('"pg_stat_statements"."track"');
  });
});
