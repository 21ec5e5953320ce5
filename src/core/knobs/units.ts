/**
 * PostgreSQL setting values <-> numbers. Memory is held in bytes and durations in
 * milliseconds everywhere in pg2une; strings use PostgreSQL's own unit syntax
 * ("512MB", "64kB", "5min", "200ms"), which is case-sensitive.
 */
import type { KnobSpec, PgUnit } from "./catalog";

export type KnobValue = number | boolean | string;

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  kB: 1024,
  "8kB": 8192,
  "16kB": 16384,
  MB: 1024 ** 2,
  "16MB": 16 * 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

const DURATION_UNITS: Readonly<Record<string, number>> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Units a user may write, largest first (for rendering). */
const MEMORY_RENDER: ReadonlyArray<[string, number]> = [
  ["TB", 1024 ** 4],
  ["GB", 1024 ** 3],
  ["MB", 1024 ** 2],
  ["kB", 1024],
];
const DURATION_RENDER: ReadonlyArray<[string, number]> = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["min", 60_000],
  ["s", 1000],
  ["ms", 1],
];

const TRUE_WORDS = new Set(["on", "true", "yes", "1", "t", "y"]);
const FALSE_WORDS = new Set(["off", "false", "no", "0", "f", "n"]);

export class KnobValueError extends Error {
  override name = "KnobValueError";
}

/** Multiplier from a pg_settings unit to bytes (memory) or ms (durations). */
export function unitFactor(kind: "memory" | "duration", unit: string | null): number {
  if (unit === null || unit === "") return 1;
  const table = kind === "memory" ? MEMORY_UNITS : DURATION_UNITS;
  const factor = table[unit];
  if (factor === undefined) throw new KnobValueError(`unknown ${kind} unit "${unit}"`);
  return factor;
}

/**
 * A raw pg_settings `setting` (or min_val/max_val) in base units. Negative numbers are
 * sentinels in PostgreSQL (-1 = "auto"/"disabled") and are returned as they are.
 */
export function settingToBase(kind: KnobSpec["kind"], setting: string, unit: string | null): KnobValue {
  switch (kind) {
    case "memory":
    case "duration": {
      const n = Number(setting);
      if (!Number.isFinite(n)) throw new KnobValueError(`"${setting}" is not a number`);
      return n < 0 ? n : n * unitFactor(kind, unit);
    }
    case "integer":
    case "real": {
      const n = Number(setting);
      if (!Number.isFinite(n)) throw new KnobValueError(`"${setting}" is not a number`);
      return n;
    }
    case "bool":
      return parseBool(setting);
    case "enum":
      return setting;
  }
}

function parseBool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  throw new KnobValueError(`"${text}" is not a boolean (use on/off)`);
}

const NUMBER_WITH_UNIT = /^\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*$/;

/**
 * Parses a user/optimizer value into base units. Numbers are taken as already in base units
 * (bytes, ms); strings follow PostgreSQL: a bare number means the knob's pg_settings unit.
 */
export function parseKnobValue(spec: Pick<KnobSpec, "name" | "kind" | "pgUnit">, input: KnobValue): KnobValue {
  switch (spec.kind) {
    case "bool":
      if (typeof input === "boolean") return input;
      if (typeof input === "number" && (input === 0 || input === 1)) return input === 1;
      if (typeof input === "string") return parseBool(input);
      throw new KnobValueError(`${spec.name}: expected on/off`);
    case "enum":
      if (typeof input !== "string" || input.trim() === "") throw new KnobValueError(`${spec.name}: expected one of its named values`);
      return input.trim();
    case "integer":
    case "real": {
      const n = typeof input === "number" ? input : typeof input === "string" && input.trim() !== "" ? Number(input) : NaN;
      if (!Number.isFinite(n)) throw new KnobValueError(`${spec.name}: "${String(input)}" is not a number`);
      if (spec.kind === "integer" && !Number.isInteger(n)) throw new KnobValueError(`${spec.name}: "${String(input)}" is not an integer`);
      return n;
    }
    case "memory":
    case "duration": {
      if (typeof input === "number") {
        if (!Number.isFinite(input)) throw new KnobValueError(`${spec.name}: not a finite number`);
        return input;
      }
      if (typeof input !== "string") throw new KnobValueError(`${spec.name}: expected a ${spec.kind} value like ${example(spec.kind)}`);
      const m = NUMBER_WITH_UNIT.exec(input);
      if (!m) throw new KnobValueError(`${spec.name}: "${input}" is not a ${spec.kind} value like ${example(spec.kind)}`);
      const n = Number(m[1]);
      const unit = m[2] ?? "";
      if (n < 0) {
        if (unit !== "") throw new KnobValueError(`${spec.name}: "${input}": a negative value takes no unit`);
        return n;
      }
      const table = spec.kind === "memory" ? MEMORY_UNITS : DURATION_UNITS;
      const factor = unit === "" ? unitFactor(spec.kind, spec.pgUnit) : table[unit];
      if (factor === undefined) {
        const valid = spec.kind === "memory" ? "B, kB, MB, GB, TB" : "us, ms, s, min, h, d";
        throw new KnobValueError(`${spec.name}: unknown unit "${unit}" in "${input}" (valid: ${valid}; case matters)`);
      }
      return n * factor;
    }
  }
}

/** Renders a base-unit value the way a DBA would write it: "512MB", "5min", "on". */
export function renderKnobValue(spec: Pick<KnobSpec, "kind">, value: KnobValue): string {
  switch (spec.kind) {
    case "bool":
      return value === true || value === "on" ? "on" : "off";
    case "enum":
      return String(value);
    case "integer":
      return String(Math.round(Number(value)));
    case "real":
      return String(Number(Number(value).toPrecision(6)));
    case "memory":
    case "duration": {
      const n = Number(value);
      if (n < 0) return String(Math.round(n));
      const table = spec.kind === "memory" ? MEMORY_RENDER : DURATION_RENDER;
      const smallest = table[table.length - 1]!;
      // Memory below 1kB granularity and fractional ms are rounded to the smallest unit.
      const rounded = Math.round(n / smallest[1]) * smallest[1];
      for (const [unit, factor] of table) {
        if (rounded % factor === 0) return `${rounded / factor}${unit}`;
      }
      return `${rounded / smallest[1]}${smallest[0]}`;
    }
  }
}

function example(kind: "memory" | "duration"): string {
  return kind === "memory" ? '"512MB" or "64kB"' : '"5min" or "200ms"';
}

/** The unit a pg_settings row's numbers are in, typed. */
export function asPgUnit(unit: string | null): PgUnit | null {
  return (unit ?? null) as PgUnit | null;
}
