/**
 * quoteLiteral / quoteIdent against a real server: whatever the text, PostgreSQL reads back
 * exactly that text, with standard_conforming_strings on and off, and nothing else runs.
 */
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quoteIdent, quoteLiteral } from "../../src/core/sql/quote";
import { startTestCluster, type TestCluster } from "../support/postgres";

let cluster: TestCluster;
let client: pg.Client;

const NASTY = [
  "",
  "'",
  "''",
  "\\",
  "\\'",
  "'\\",
  "' OR 1=1 --",
  "'; drop table victim; --",
  "\\'; drop table victim; --",
  "$$",
  "$tag$'$tag$",
  "E'\\x41'",
  "\n\r\t",
  "é ü 中文 🐘",
  "\u2019 (right single quote) \uFF07 (fullwidth)",
  "/* unclosed comment",
  "\\\\\\'",
];

// Unicode text without NUL (PostgreSQL cannot hold it) — lone surrogates are excluded by fast-check's string units.
const text = fc.string({ unit: fc.oneof(fc.constantFrom("'", "\\", '"', "$", ";", "-", "\n", "E"), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })), maxLength: 40 }).filter((s) => !s.includes("\u0000"));

beforeAll(async () => {
  cluster = await startTestCluster();
  client = new pg.Client({ connectionString: cluster.url() });
  await client.connect();
  await client.query("create table victim (x int)");
});
afterAll(async () => {
  await client?.end();
  await cluster?.destroy();
});

describe.each(["on", "off"])("standard_conforming_strings = %s", (scs) => {
  beforeAll(async () => {
    await client.query(`set standard_conforming_strings = ${scs}`);
    await client.query("set escape_string_warning = off");
  });

  it("nasty literals come back unchanged", async () => {
    for (const s of NASTY) {
      const { rows } = await client.query<{ v: string }>(`select ${quoteLiteral(s)} as v`);
      expect(rows[0]!.v).toBe(s);
    }
  });

  it("property: any text round-trips as a literal and as an identifier", async () => {
    await fc.assert(
      fc.asyncProperty(text, async (s) => {
        const { rows } = await client.query<{ v: string }>(`select ${quoteLiteral(s)} as v`);
        expect(rows[0]!.v).toBe(s);
        // Identifiers are cut at 63 bytes by the server (NAMEDATALEN), so only shorter ones round-trip.
        if (s !== "" && new TextEncoder().encode(s).length <= 63) {
          const r = await client.query(`select 1 as ${quoteIdent(s)}`);
          expect(r.fields[0]!.name).toBe(s);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("an injection attempt stays a value: ALTER SYSTEM is given a string, the victim table survives", async () => {
    await expect(client.query(`alter system set work_mem = ${quoteLiteral("64MB'; drop table victim; --")}`)).rejects.toThrow(/invalid value for parameter "work_mem"/);
    const { rows } = await client.query("select count(*)::int as n from pg_class where relname = 'victim'");
    expect(rows[0]).toEqual({ n: 1 });
  });
});
