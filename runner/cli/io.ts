/**
 * CLI plumbing shared by every command: argument parsing with zod, JSON/human output, and the
 * rule that errors go to stderr with a non-zero exit code.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";

/** An error the user can fix; printed without a stack trace. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export interface ParsedArgs<S extends z.ZodType> {
  values: z.output<S>;
  positionals: string[];
}

/**
 * node:util parseArgs for the shape, then zod for meaning: unknown flags, missing values and
 * bad numbers all become a CliError naming the flag.
 */
export function parseCommandArgs<S extends z.ZodType>(
  argv: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
  schema: S,
  usage: string,
): ParsedArgs<S> {
  let raw: { values: Record<string, unknown>; positionals: string[] };
  try {
    raw = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as typeof raw;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${usage}`);
  }
  const parsed = schema.safeParse({ ...raw.values, positionals: raw.positionals });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `--${issue.path.join(".")}` : "arguments";
    throw new CliError(`${where}: ${issue?.message ?? "invalid"}\n\n${usage}`);
  }
  return { values: parsed.data, positionals: raw.positionals };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain-text table for humans: columns padded to their widest cell. */
export function formatTable(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? "" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(cells[0]!), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}
