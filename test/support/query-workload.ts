/**
 * A query workload for index tests and the index benchmark: N clients run a mix of
 * parameterized queries (extended protocol, so pg_stat_statements records them with $1) until
 * stopped. Parameters come from a seeded RNG so runs are repeatable.
 *
 * @example
 *   const w = startWorkload(url, [{ name: "by-customer", sql: "select * from orders where customer_id = $1", params: (r) => [r.int(1, 3000)] }]);
 *   await sleep(2000);
 *   const { calls } = await w.stop();
 */
import pg from "pg";

export interface Rng {
  next(): number;
  int(lo: number, hi: number): number;
}

/** mulberry32: tiny, seedable, good enough to pick parameters. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

export interface WorkloadQuery {
  name: string;
  sql: string;
  params: (rng: Rng) => unknown[];
  /** Relative frequency (default 1). */
  weight?: number;
}

export interface RunningWorkload {
  stop(): Promise<{ calls: Record<string, number>; errors: string[] }>;
}

export function startWorkload(url: string, queries: readonly WorkloadQuery[], opts: { clients?: number; seed?: number } = {}): RunningWorkload {
  const clients = opts.clients ?? 2;
  const calls: Record<string, number> = Object.fromEntries(queries.map((q) => [q.name, 0]));
  const errors: string[] = [];
  const total = queries.reduce((s, q) => s + (q.weight ?? 1), 0);
  let stopping = false;
  const loops = Array.from({ length: clients }, async (_, i) => {
    const rng = seededRng((opts.seed ?? 1) * 1000 + i);
    const client = new pg.Client({ connectionString: url, application_name: "pg2une-test-workload" });
    client.on("error", () => undefined);
    await client.connect();
    try {
      while (!stopping) {
        let pick = rng.next() * total;
        const q = queries.find((x) => (pick -= x.weight ?? 1) < 0) ?? queries[0]!;
        try {
          await client.query(q.sql, q.params(rng));
          calls[q.name]! += 1;
        } catch (err) {
          if (errors.length < 20) errors.push(`${q.name}: ${(err as Error).message}`);
        }
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  });
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return { calls, errors };
    },
  };
}
