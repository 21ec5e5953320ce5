/** One statement on a fresh connection: for setup steps, not for hot paths. */
import pg from "pg";

export async function runSql<T extends Record<string, unknown> = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const result = await client.query(sql, params);
    return result.rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}
