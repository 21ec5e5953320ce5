/**
 * `pg2une rules <file.dl> --facts <facts.json> [--query pred]... [--explain 'pred(args)'] [--json]`:
 * evaluate decision rules over facts without any server, to try a rule change before deploying
 * it. Facts are the JSON map detection emits (`{"metric_degraded": [["tps"]], "high_confidence": [[]]}`).
 * Output is the same map for the queried predicates (every derived one by default), plus the
 * derivation tree of --explain under the key "$explain" (no predicate can be named that).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import {
  DatalogError,
  evaluate,
  formatExplanation,
  formatFact,
  parseFactMap,
  parseGroundAtom,
  parseProgram,
  PREDICATE_NAME,
  type Database,
  type Fact,
  type Program,
} from "../../../src/core/datalog";
import { CliError, parseCommandArgs } from "../io";

export const USAGE = `Usage: pg2une rules <file.dl> [--facts facts.json|-] [--query pred]... [--explain 'pred(args)'] [--json]
  --facts    JSON map of facts, {"pred": [[arg, ...], ...]}; a zero-arity fact is [[]]; - reads stdin
  --query    print only these predicates (repeatable; default: every predicate a rule derives)
  --explain  also print why this fact holds (its derivation tree), e.g. --explain 'should_act(knobs)'
  --json     one line of JSON: {"pred": [[...]], ..., "$explain": tree-or-null}`;

/** The JSON key of the explanation: "$" cannot start a predicate name, so it never collides. */
export const EXPLAIN_KEY = "$explain";

const argsSchema = z.object({
  facts: z.string().optional(),
  query: z.array(z.string().regex(PREDICATE_NAME, "must be a predicate name (lowercase letter first, then letters, digits, _)")).optional(),
  explain: z.string().optional(),
  json: z.boolean().optional(),
  positionals: z.array(z.string()),
});

function readText(path: string, what: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** A DatalogError as `file:line:column: message` (or `file: message` when it has no position). */
function located(file: string, err: unknown): CliError {
  if (err instanceof DatalogError) return new CliError(err.at ? `${file}:${err.message}` : `${file}: ${err.message}`);
  throw err;
}

function loadProgram(file: string): Program {
  const text = readText(file, "rules file");
  try {
    return parseProgram(text);
  } catch (err) {
    throw located(file, err);
  }
}

function loadFacts(path: string | undefined): Fact[] {
  if (path === undefined) return [];
  const text = readText(path, "facts file");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseFactMap(json);
  } catch (err) {
    throw located(path, err);
  }
}

function humanReport(db: Database, predicates: string[]): string {
  return predicates
    .map((p) => {
      const facts = db.toFactMap([p])[p]!;
      const header = `${p}: ${facts.length === 0 ? "no facts" : `${facts.length} fact${facts.length === 1 ? "" : "s"}`}`;
      return [header, ...facts.map((args) => `  ${formatFact({ predicate: p, args })}.`)].join("\n");
    })
    .join("\n\n");
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { facts: { type: "string" }, query: { type: "string", multiple: true }, explain: { type: "string" }, json: { type: "boolean" } },
    argsSchema,
    USAGE,
  );
  if (positionals.length !== 1) throw new CliError(`expected exactly one rules file, got ${positionals.length}\n\n${USAGE}`);
  const file = positionals[0]!;
  const program = loadProgram(file);
  const facts = loadFacts(values.facts);
  let target: Fact | undefined;
  if (values.explain !== undefined) {
    try {
      target = parseGroundAtom(values.explain);
    } catch (err) {
      throw new CliError(`--explain: ${(err as Error).message} (expected a fact such as 'should_act(knobs)')`);
    }
  }

  const started = performance.now();
  let db: Database;
  try {
    db = evaluate(program, facts);
  } catch (err) {
    throw located(values.facts ?? file, err);
  }
  const elapsedMs = performance.now() - started;

  const predicates = values.query ?? program.derived;
  for (const p of predicates) {
    if (!db.knows(p)) {
      throw new CliError(`--query: unknown predicate ${p}; ${file} and the facts know: ${db.predicates().join(", ") || "(none)"}`);
    }
  }
  const explanation = target ? db.explain(target) : undefined;

  if (values.json) {
    const out: Record<string, unknown> = db.toFactMap(predicates);
    if (target) out[EXPLAIN_KEY] = explanation ?? null;
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  }
  const sections = [humanReport(db, predicates)];
  if (target) {
    sections.push(explanation ? `why ${formatFact(target)}:\n${formatExplanation(explanation)}` : `${formatFact(target)} does not hold.`);
  }
  sections.push(
    `(${program.rules.length} rules over ${facts.length + program.facts.length} given facts: ${db.stats.derived} derived in ${db.stats.rounds} rounds, ${elapsedMs.toFixed(2)} ms)`,
  );
  process.stdout.write(`${sections.join("\n\n")}\n`);
  return 0;
}
