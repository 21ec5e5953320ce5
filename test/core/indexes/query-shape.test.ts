import { parse } from "libpg-query";
import { describe, expect, it } from "vitest";
import { queryShape, resolveColumns, type QueryShape, type RelationCatalog } from "../../../src/core/indexes";

const orders = { schema: "public", name: "orders" };
const customers = { schema: "public", name: "customers" };
const COLUMNS: Record<string, string[]> = {
  orders: ["id", "customer_id", "status", "created_at", "amount"],
  customers: ["id", "email", "country"],
};

/** The catalog as the runner builds it: every relation resolved to public.<name>. */
function catalogFor(shape: QueryShape): RelationCatalog {
  return shape.relations.map((r) => (COLUMNS[r.name] ? { table: { schema: r.schema ?? "public", name: r.name }, columns: new Set(COLUMNS[r.name]) } : null));
}

async function columnsOf(sql: string) {
  const shape = queryShape(await parse(sql));
  const resolved = resolveColumns(shape, catalogFor(shape));
  return { shape, resolved, list: resolved.columns.map((c) => `${c.table.name}.${c.column}:${c.clauses.sort().join("+")}`).sort() };
}

describe("queryShape + resolveColumns (real PostgreSQL parser)", () => {
  it("finds WHERE, JOIN and ORDER BY columns per table through aliases and schema-qualified names", async () => {
    const { list, shape } = await columnsOf(
      "SELECT o.id, c.email FROM public.orders o JOIN customers AS c ON c.id = o.customer_id WHERE o.status = $1 AND c.country = $2 ORDER BY o.created_at DESC LIMIT $3",
    );
    expect(list).toEqual(["customers.country:where", "customers.id:join", "orders.created_at:order", "orders.customer_id:join", "orders.status:where"]);
    expect(shape.relations).toEqual([{ schema: "public", name: "orders" }, { schema: null, name: "customers" }]);
    expect(shape.occurrences.map((o) => o.refName)).toEqual(["o", "c"]);
    expect(shape.kind).toBe("select");
  });

  it("maps each $n to the column it is compared with, and knows LIMIT/OFFSET parameters", async () => {
    const { resolved, shape } = await columnsOf(
      "SELECT * FROM orders WHERE customer_id = $1 AND created_at BETWEEN $2 AND $3 AND status IN ($4, $5) AND amount::numeric > $6::numeric ORDER BY id LIMIT $7 OFFSET $8",
    );
    expect(shape.parameterCount).toBe(8);
    const byNumber = Object.fromEntries(resolved.parameters.map((p) => [p.number, `${p.role}:${p.column ?? ""}`]));
    expect(byNumber).toEqual({
      1: "compare:customer_id",
      2: "compare:created_at",
      3: "compare:created_at",
      4: "compare:status",
      5: "compare:status",
      6: "compare:amount",
      7: "limit:",
      8: "offset:",
    });
    expect(resolved.parameters.find((p) => p.number === 1)!.table).toEqual(orders);
  });

  it("resolves unqualified columns with the catalog, and reports ambiguous ones instead of guessing", async () => {
    const { list, resolved } = await columnsOf("SELECT * FROM orders, customers WHERE customer_id = customers.id AND email = $1 AND id = $2");
    expect(list).toEqual(["customers.email:where", "customers.id:join", "orders.customer_id:join"]);
    expect(resolved.unresolved).toEqual([{ column: "id", why: "ambiguous" }]);
  });

  it("treats an implicit join in WHERE as a join, and walks correlated sub-selects with the outer scope", async () => {
    const { list } = await columnsOf(
      "SELECT c.email FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'open') AND c.country = 'NZ'",
    );
    expect(list).toEqual(["customers.country:where", "customers.id:join", "orders.customer_id:join", "orders.status:where"]);
  });

  it("ignores CTE names and sub-selects in FROM as index targets, but walks inside them", async () => {
    const { list, shape } = await columnsOf(
      "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day') SELECT r.id FROM recent r JOIN (SELECT id FROM customers WHERE country = $1) k ON k.id = r.customer_id WHERE r.status = $2",
    );
    expect(shape.relations.map((r) => r.name)).toEqual(["orders", "customers"]);
    expect(list).toEqual(["customers.country:where", "orders.created_at:where"]);
  });

  it("handles UPDATE and DELETE predicates and USING joins", async () => {
    expect((await columnsOf("UPDATE orders SET status = $1 WHERE customer_id = $2")).list).toEqual(["orders.customer_id:where"]);
    expect((await columnsOf("DELETE FROM orders o USING customers c WHERE o.customer_id = c.id AND c.email = $1")).list).toEqual([
      "customers.email:where",
      "customers.id:join",
      "orders.customer_id:join",
    ]);
    expect((await columnsOf("SELECT * FROM orders JOIN customers USING (id) WHERE status = $1")).list).toEqual([
      "customers.id:join",
      "orders.id:join",
      "orders.status:where",
    ]);
  });

  it("skips columns wrapped in functions (a plain btree cannot serve lower(email))", async () => {
    const { list, resolved } = await columnsOf("SELECT * FROM customers WHERE lower(email) = $1 AND country IS NULL");
    expect(list).toEqual(["customers.country:where"]);
    expect(resolved.parameters).toEqual([{ number: 1, role: "other", table: null, column: null }]);
  });

  it("finds a UNION's branches and sub-selects in the select list", async () => {
    const { list } = await columnsOf(
      "SELECT id, (SELECT max(amount) FROM orders x WHERE x.customer_id = c.id) FROM customers c WHERE country = $1 UNION ALL SELECT id, amount FROM orders WHERE status = $2",
    );
    expect(list).toEqual(["customers.country:where", "customers.id:join", "orders.customer_id:join", "orders.status:where"]);
  });
});
