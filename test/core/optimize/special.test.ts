import { describe, expect, it } from "vitest";
import { erfc, erfcx, log1mexp, logH, normalCdf } from "../../../src/core/optimize/special";

// Reference values: SciPy 1.17 (scipy.special.erfcx / erfc) and mpmath at 50 digits for log h.
const ERFCX: Array<[number, number]> = [
  [0, 1.0],
  [0.3, 0.7345993345676554],
  [0.7071067811865476, 0.5231565837302468],
  [1, 0.427583576155807],
  [2, 0.2553956763105058],
  [2.49, 0.2115523393550635],
  [2.5, 0.2108063640611436],
  [3, 0.17900115118138998],
  [5, 0.11070463773306861],
  [10, 0.05614099274382259],
  [30, 0.018795888861416754],
  [1e3, 0.0005641893014533876],
  [1e6, 5.641895835474742e-7],
];

const ERFC: Array<[number, number]> = [
  [-3, 1.9999779095030015],
  [-0.5, 1.5204998778130465],
  [0.5, 0.4795001221869535],
  [3, 2.2090496998585445e-5],
  [6, 2.1519736712498913e-17],
];

const LOG_H: Array<[number, number]> = [
  [3, 1.0987396653277077],
  [1, 0.08002621884930694],
  [0, -0.9189385332046728],
  [-0.5, -1.6205162643873199],
  [-1, -2.4851210257126413],
  [-2, -4.768783523917114],
  [-5, -16.74430116266099],
  [-10, -55.55312203612235],
  [-20, -206.9178385094251],
  [-40, -808.29856835662],
  [-100, -5010.12957880025],
  [-1e4, -50000019.33961931],
  [-1e10, -5e19],
];

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe("special functions", () => {
  it.each(ERFCX)("erfcx(%d) matches SciPy", (x, expected) => {
    expect(relErr(erfcx(x), expected)).toBeLessThan(1e-11);
  });

  it.each(ERFC)("erfc(%d) matches SciPy", (x, expected) => {
    expect(relErr(erfc(x), expected)).toBeLessThan(1e-11);
  });

  it.each(LOG_H)("log h(%d) matches mpmath, even where h underflows", (z, expected) => {
    expect(relErr(logH(z), expected)).toBeLessThan(1e-10);
  });

  it("log h is finite and increasing across the whole line", () => {
    let previous = -Infinity;
    for (let z = -1e6; z < 10; z = z < -100 ? z / 1.5 : z + 0.25) {
      const v = logH(z);
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(previous);
      previous = v;
    }
  });

  it("normal cdf and log1mexp behave at the edges", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 15);
    expect(relErr(normalCdf(-37), 5.725571222524e-300)).toBeLessThan(1e-9);
    expect(relErr(log1mexp(-1e-20), Math.log(1e-20))).toBeLessThan(1e-12);
    expect(relErr(log1mexp(-50), -Math.exp(-50))).toBeLessThan(1e-12);
  });
});
