/** `pg2une db-migrate [--database-url URL] [--json]`: apply migrations/ (idempotent). */
import { z } from "zod";
import { migrateDatabase } from "../../db/migrate";
import { redactUrl as redact } from "../../net/redact";
import { CliError, parseCommandArgs, printJson } from "../io";

export const USAGE = "Usage: pg2une db-migrate [--database-url URL] [--json]   (default: $DATABASE_URL)";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { "database-url": { type: "string" }, json: { type: "boolean" } },
    z.object({ "database-url": z.string().optional(), json: z.boolean().optional(), positionals: z.array(z.string()).max(0) }),
    USAGE,
  );
  const url = values["database-url"] ?? process.env.DATABASE_URL;
  if (!url) throw new CliError(`DATABASE_URL is not set and --database-url was not given\n\n${USAGE}`);
  let result;
  try {
    result = await migrateDatabase(url);
  } catch (err) {
    throw new CliError(`migration failed against ${redact(url)}: ${(err as Error).message}`, 1);
  }
  if (values.json) printJson(result);
  else process.stdout.write(`migrations: ${result.applied} applied now, ${result.total} in total\n`);
  return 0;
}

