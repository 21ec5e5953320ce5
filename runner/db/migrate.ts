/**
 * Applies migrations/ to pg2une's own database (DATABASE_URL). Idempotent: drizzle records
 * applied migrations in drizzle.__drizzle_migrations, so a second run does nothing.
 */
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

export interface MigrateResult {
  applied: number;
  total: number;
}

export async function migrateDatabase(databaseUrl: string): Promise<MigrateResult> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    // Concurrent migrators (two `npm start`s, parallel test files) must not race; counting
    // inside the lock keeps `applied` true for each of them too.
    const client = await pool.connect();
    try {
      await client.query("select pg_advisory_lock(hashtext('pg2une.migrate'))");
      const before = await countApplied(client);
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_DIR });
      const after = await countApplied(client);
      return { applied: after - before, total: after };
    } finally {
      await client.query("select pg_advisory_unlock(hashtext('pg2une.migrate'))").catch(() => undefined);
      client.release();
    }
  } finally {
    await pool.end();
  }
}

async function countApplied(client: pg.PoolClient): Promise<number> {
  const exists = await client.query("select to_regclass('drizzle.__drizzle_migrations') is not null as present");
  if (!exists.rows[0]?.present) return 0;
  const rows = await client.query("select count(*)::int as n from drizzle.__drizzle_migrations");
  return rows.rows[0]?.n ?? 0;
}
