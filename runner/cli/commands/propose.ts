/**
 * `pg2une propose --space space.json --observations obs.json [--minimize] [--seed N] [--json]`
 *
 * One ask/tell step of the Bayesian optimizer, for any black-box function: reads the space and
 * what has been measured so far, prints the next point to evaluate as a JSON object.
 *   space.json: {"dimensions":[{"name":"x","type":"float"|"int"|"categorical","low":0,"high":1,"log":false,"choices":[…]}]}
 *   obs.json:   [{"config":{"x":0.3},"value":1.7}, …]   (may be empty: an initial-design point)
 * The default seed is 0, so repeated calls walk the same Latin-hypercube design.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { propose, type Observation } from "../../../src/core/optimize/propose";
import { buildSpace, encode, SpaceSchema, type Space } from "../../../src/core/optimize/space";
import { CliError, parseCommandArgs, printJson } from "../io";

export const USAGE = `Usage: pg2une propose --space <space.json> --observations <obs.json> [--minimize] [--seed N] [--json]

  --space         the search space: {"dimensions":[{"name","type":"float"|"int"|"categorical","low","high","log","choices"}]}
  --observations  what was measured: [{"config":{...},"value":number}, ...] (an empty list gives an initial-design point)
  --minimize      lower values are better (default: higher is better)
  --seed          random seed (default 0; the same inputs and seed give the same point)
  --json          print only the point, as a JSON object`;

const ArgsSchema = z.object({
  space: z.string({ error: "is required" }).min(1),
  observations: z.string({ error: "is required" }).min(1),
  minimize: z.boolean().optional(),
  seed: z.string().regex(/^-?\d+$/, "must be an integer").transform(Number).optional(),
  json: z.boolean().optional(),
  positionals: z.array(z.string()).max(0, "takes no positional arguments"),
});

const ObservationsSchema = z.array(
  z.object({
    config: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()]), { error: "must be an object of dimension values" }),
    value: z.number({ error: "must be a number" }).refine(Number.isFinite, "must be a finite number"),
  }),
  { error: "must be a JSON array of {config, value}" },
);

function readJson(path: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`--${flag} ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`--${flag} ${path}: not valid JSON: ${(err as Error).message}`);
  }
}

function issuePath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
}

function zodProblem(file: string, error: z.ZodError): CliError {
  const issue = error.issues[0]!;
  const where = issuePath(issue.path as PropertyKey[]);
  return new CliError(`${file}: ${where ? `${where}: ` : ""}${issue.message}`);
}

/** Every observation must name each dimension with a value of the right type. */
function checkObservations(file: string, space: Space, observations: Observation[]): void {
  observations.forEach((o, i) => {
    for (const d of space.dimensions) {
      const v = o.config[d.name];
      const where = `${file}: [${i}].config.${d.name}`;
      if (v === undefined) throw new CliError(`${where}: missing (every observation needs a value for each dimension)`);
      if (d.type === "categorical") {
        if (!d.choices.some((c) => c === v)) throw new CliError(`${where}: ${JSON.stringify(v)} is not one of ${JSON.stringify(d.choices)}`);
      } else {
        if (typeof v !== "number") throw new CliError(`${where}: must be a number, got ${JSON.stringify(v)}`);
        if (d.type === "int" && !Number.isInteger(v)) throw new CliError(`${where}: must be an integer, got ${v}`);
        if (d.log && v <= 0) throw new CliError(`${where}: must be > 0 on a log-scaled dimension, got ${v}`);
      }
    }
    const extra = Object.keys(o.config).filter((k) => !space.dimensions.some((d) => d.name === k));
    if (extra.length) throw new CliError(`${file}: [${i}].config.${extra[0]}: not a dimension of the space`);
    encode(space, o.config);
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { space: { type: "string" }, observations: { type: "string" }, minimize: { type: "boolean" }, seed: { type: "string" }, json: { type: "boolean" } },
    ArgsSchema,
    USAGE,
  );
  const spaceParsed = SpaceSchema.safeParse(readJson(values.space, "space"));
  if (!spaceParsed.success) throw zodProblem(values.space, spaceParsed.error);
  const space = buildSpace(spaceParsed.data);
  const obsParsed = ObservationsSchema.safeParse(readJson(values.observations, "observations"));
  if (!obsParsed.success) throw zodProblem(values.observations, obsParsed.error);
  const observations: Observation[] = obsParsed.data;
  checkObservations(values.observations, space, observations);

  const proposal = propose(space, observations, { seed: values.seed ?? 0, goal: values.minimize ? "minimize" : "maximize" });
  if (values.json) {
    printJson(proposal.config);
    return 0;
  }
  const step = proposal.search === "additive" ? "; additive step: coordinates moved to where their own effect looks best or least known" : "";
  const detail =
    proposal.source === "bayesian" && proposal.prediction
      ? `${step}; predicted ${proposal.prediction.mean.toPrecision(4)} (≈95 % ${proposal.prediction.interval.map((v) => v.toPrecision(4)).join("…")})`
      : "";
  process.stdout.write(`next point (${proposal.source.replace("_", " ")}, from ${observations.length} observations${detail}):\n`);
  printJson(proposal.config);
  return 0;
}
