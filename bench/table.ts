/**
 * Every benchmark prints its inputs and a side-by-side table: ours vs the reference, and the
 * ratio. `printComparison` is the one way to do that, so all benchmarks read alike.
 */
export interface ComparisonRow {
  metric: string;
  ours: number | null;
  reference: number | null;
  /** Optional target, shown as text (e.g. "±5 %", "≤ 0.41"). */
  target?: string;
  /** Whether the row meets its target; omitted when there is none. */
  pass?: boolean;
}

function fmt(n: number | null, digits = 3): string {
  if (n === null || !Number.isFinite(n)) return "—";
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 0.001 || abs >= 1e6)) return n.toExponential(2);
  return n.toFixed(abs >= 100 ? 1 : digits);
}

export function ratio(ours: number | null, reference: number | null): number | null {
  if (ours === null || reference === null || reference === 0) return null;
  return ours / reference;
}

function okCell(pass: boolean | undefined): string {
  return pass === undefined ? "" : pass ? "yes" : "NO";
}

/** A Markdown table with columns padded to their widest cell, then a blank line. */
function printMarkdownTable(header: string[], body: string[][]): void {
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of body) console.log(line(row));
  console.log("");
}

export function printInputs(title: string, inputs: Record<string, unknown>): void {
  console.log(`\n## ${title}\n`);
  for (const [k, v] of Object.entries(inputs)) console.log(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
  console.log("");
}

export function printComparison(oursLabel: string, referenceLabel: string, rows: ComparisonRow[]): void {
  const header = ["metric", oursLabel, referenceLabel, "ratio", "target", "ok"];
  const body = rows.map((r) => [
    r.metric,
    fmt(r.ours),
    fmt(r.reference),
    fmt(ratio(r.ours, r.reference)),
    r.target ?? "",
    okCell(r.pass),
  ]);
  printMarkdownTable(header, body);
}

export interface SideBySideRow {
  metric: string;
  /** One value per column, in the order of the labels. */
  values: Array<number | null>;
  target?: string;
  /** Whether every judged column meets the target; omitted when there is none. */
  pass?: boolean;
}

/**
 * Several detectors or variants against the same rows (e.g. CUSUM | E-Divisive | a naive
 * reference): the comparison table with one column per label and no ratio.
 */
export function printSideBySide(labels: string[], rows: SideBySideRow[]): void {
  const header = ["metric", ...labels, "target", "ok"];
  const body = rows.map((r) => [r.metric, ...r.values.map((v) => fmt(v)), r.target ?? "", okCell(r.pass)]);
  printMarkdownTable(header, body);
}
