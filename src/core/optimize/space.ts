/**
 * The search space: named float / int / categorical dimensions, and the map between a
 * configuration (what the user sees) and a point in the unit cube (what the GP sees).
 *
 * Numeric dimensions take one coordinate in [0, 1] (through log when `log` is set); a
 * categorical with k choices takes k one-hot coordinates. `snap` rounds a point to one that
 * decodes and re-encodes to itself, so the acquisition is always evaluated at real configs.
 *
 * @example
 *   const space = parseSpace({ dimensions: [{ name: "x", type: "float", low: 0, high: 1 }] });
 *   decode(space, [0.5]); // { x: 0.5 }
 */
import { z } from "zod";
import type { Rng } from "../random";

export type CategoricalValue = string | number | boolean;
export type ConfigValue = number | CategoricalValue;
export type Config = Record<string, ConfigValue>;

const NameSchema = z.string().min(1, "must be a non-empty string");

const FloatDimensionSchema = z.object({
  name: NameSchema,
  type: z.literal("float"),
  low: z.number(),
  high: z.number(),
  log: z.boolean().default(false),
});

const IntDimensionSchema = z.object({
  name: NameSchema,
  type: z.literal("int"),
  low: z.number().int("must be an integer"),
  high: z.number().int("must be an integer"),
  log: z.boolean().default(false),
});

const CategoricalDimensionSchema = z.object({
  name: NameSchema,
  type: z.literal("categorical"),
  choices: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1, "needs at least one choice"),
});

export const DimensionSchema = z
  .discriminatedUnion("type", [FloatDimensionSchema, IntDimensionSchema, CategoricalDimensionSchema], {
    error: 'type must be "float", "int" or "categorical"',
  })
  .superRefine((d, ctx) => {
    if (d.type === "categorical") {
      const seen = new Set<string>();
      d.choices.forEach((c, i) => {
        const key = `${typeof c}:${String(c)}`;
        if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["choices", i], message: `duplicate choice ${JSON.stringify(c)}` });
        seen.add(key);
      });
      return;
    }
    if (d.low > d.high) ctx.addIssue({ code: "custom", path: ["high"], message: `must be ≥ low (${d.low})` });
    if (d.log && d.low <= 0) ctx.addIssue({ code: "custom", path: ["low"], message: "must be > 0 when log is true" });
  });

export const SpaceSchema = z
  .object({ dimensions: z.array(DimensionSchema).min(1, "needs at least one dimension") })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.dimensions.forEach((d, i) => {
      if (seen.has(d.name)) ctx.addIssue({ code: "custom", path: ["dimensions", i, "name"], message: `duplicate dimension name "${d.name}"` });
      seen.add(d.name);
    });
  });

export type Dimension = z.output<typeof DimensionSchema>;
export type NumericDimension = Extract<Dimension, { type: "float" | "int" }>;
export type SpaceSpec = z.output<typeof SpaceSchema>;

/** A parsed space plus its encoding layout. */
export interface Space {
  readonly dimensions: readonly Dimension[];
  /** Number of unit-cube coordinates (numeric dims + one-hot widths). */
  readonly width: number;
  /** First coordinate of each dimension. */
  readonly offsets: readonly number[];
}

export function buildSpace(spec: z.input<typeof SpaceSchema>): Space {
  const parsed = SpaceSchema.parse(spec);
  const offsets: number[] = [];
  let width = 0;
  for (const d of parsed.dimensions) {
    offsets.push(width);
    width += d.type === "categorical" ? d.choices.length : 1;
  }
  return { dimensions: parsed.dimensions, width, offsets };
}

function numericToUnit(d: NumericDimension, v: number): number {
  if (d.high === d.low) return 0.5;
  if (d.log) return (Math.log(v) - Math.log(d.low)) / (Math.log(d.high) - Math.log(d.low));
  return (v - d.low) / (d.high - d.low);
}

function unitToNumeric(d: NumericDimension, t: number): number {
  const u = Math.min(1, Math.max(0, t));
  let v = d.log ? Math.exp(Math.log(d.low) + u * (Math.log(d.high) - Math.log(d.low))) : d.low + u * (d.high - d.low);
  if (d.type === "int") v = Math.round(v);
  return Math.min(d.high, Math.max(d.low, v));
}

function sameChoice(a: CategoricalValue, b: unknown): boolean {
  return a === b;
}

/**
 * Config → unit-cube point. Numeric values outside [low, high] encode outside [0, 1] (the GP
 * copes), so a warm-start config from outside the workload range is still informative.
 */
export function encode(space: Space, config: Config): Float64Array {
  const x = new Float64Array(space.width);
  space.dimensions.forEach((d, i) => {
    const off = space.offsets[i]!;
    const v = config[d.name];
    if (d.type === "categorical") {
      const idx = d.choices.findIndex((c) => sameChoice(c, v));
      if (idx < 0) throw new RangeError(`${d.name}: ${JSON.stringify(v)} is not one of ${JSON.stringify(d.choices)}`);
      x[off + idx] = 1;
    } else {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new TypeError(`${d.name}: expected a number, got ${JSON.stringify(v)}`);
      if (d.log && v <= 0) throw new RangeError(`${d.name}: ${v} must be > 0 on a log-scaled dimension`);
      x[off] = numericToUnit(d, v);
    }
  });
  return x;
}

/** Unit-cube point → config: clamps, rounds ints, takes the arg-max of each one-hot block. */
export function decode(space: Space, x: ArrayLike<number>): Config {
  const config: Config = {};
  space.dimensions.forEach((d, i) => {
    const off = space.offsets[i]!;
    if (d.type === "categorical") {
      let best = 0;
      for (let k = 1; k < d.choices.length; k++) if (x[off + k]! > x[off + best]!) best = k;
      config[d.name] = d.choices[best]!;
    } else {
      config[d.name] = unitToNumeric(d, x[off]!);
    }
  });
  return config;
}

/** The point a unit-cube point stands for: encode(decode(x)). */
export function snap(space: Space, x: ArrayLike<number>): Float64Array {
  return encode(space, decode(space, x));
}

/** A uniform random point of the unit cube (log dims become log-uniform once decoded). */
export function samplePoint(space: Space, rng: Rng): Float64Array {
  const x = new Float64Array(space.width);
  space.dimensions.forEach((d, i) => {
    const off = space.offsets[i]!;
    if (d.type === "categorical") x[off + rng.int(d.choices.length)] = 1;
    else x[off] = rng.uniform();
  });
  return snap(space, x);
}

/**
 * A Latin-hypercube design of `count` points (McKay, Beckman & Conover 1979): each numeric
 * dimension's [0, 1] is cut into `count` strata and each stratum is used once; categoricals
 * cycle through their choices in a random order so every choice appears.
 */
export function latinHypercube(space: Space, count: number, rng: Rng): Float64Array[] {
  const points = Array.from({ length: count }, () => new Float64Array(space.width));
  space.dimensions.forEach((d, i) => {
    const off = space.offsets[i]!;
    const perm = shuffle(
      Array.from({ length: count }, (_, k) => k),
      rng,
    );
    if (d.type === "categorical") {
      perm.forEach((p, k) => {
        points[k]![off + (p % d.choices.length)] = 1;
      });
    } else {
      perm.forEach((p, k) => {
        points[k]![off] = (p + rng.uniform()) / count;
      });
    }
  });
  return points.map((p) => snap(space, p));
}

export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Indices of the coordinates that belong to numeric dimensions (the ones local search moves). */
export function numericCoordinates(space: Space): number[] {
  const coords: number[] = [];
  space.dimensions.forEach((d, i) => {
    if (d.type !== "categorical") coords.push(space.offsets[i]!);
  });
  return coords;
}

/** Whether a config's numeric values lie within their dimension's bounds. */
export function isInside(space: Space, config: Config): boolean {
  return space.dimensions.every((d) => {
    const v = config[d.name];
    if (d.type === "categorical") return d.choices.some((c) => sameChoice(c, v));
    return typeof v === "number" && v >= d.low && v <= d.high && (d.type !== "int" || Number.isInteger(v));
  });
}

export function sameConfig(space: Space, a: Config, b: Config): boolean {
  return space.dimensions.every((d) => a[d.name] === b[d.name]);
}
