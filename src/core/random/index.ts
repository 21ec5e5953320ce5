/**
 * Seedable randomness for the pure core: every decision that draws random numbers takes an `Rng`
 * so a test or a benchmark can replay it exactly. Backed by pure-rand's xoroshiro128+ (a
 * well-kept generator, Web-standard JS, runs in workerd and Node alike).
 *
 * @example
 *   const rng = createRng(42);
 *   rng.uniform(); // in [0, 1)
 *   rng.normal();  // standard normal
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

export interface Rng {
  /** Uniform in [0, 1), 53 bits. */
  uniform(): number;
  /** Standard normal N(0, 1) (Marsaglia's polar method). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Fisher–Yates shuffle of `values[from, to)` in place. */
  shuffle(values: number[] | Float64Array, from?: number, to?: number): void;
}

export function createRng(seed: number): Rng {
  const generator = xoroshiro128plus(seed | 0);
  let spareNormal: number | null = null;
  const uniform = () => uniformFloat64(generator);
  const int = (n: number) => Math.floor(uniform() * n);
  return {
    uniform,
    int,
    normal() {
      if (spareNormal !== null) {
        const value = spareNormal;
        spareNormal = null;
        return value;
      }
      let u: number;
      let v: number;
      let s: number;
      do {
        u = 2 * uniform() - 1;
        v = 2 * uniform() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const factor = Math.sqrt((-2 * Math.log(s)) / s);
      spareNormal = v * factor;
      return u * factor;
    },
    shuffle(values, from = 0, to = values.length) {
      for (let i = to - 1; i > from; i--) {
        const j = from + int(i - from + 1);
        const tmp = values[i]!;
        values[i] = values[j]!;
        values[j] = tmp;
      }
    },
  };
}
