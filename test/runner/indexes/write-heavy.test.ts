/**
 * Write cost: a table written far more than it is read gets no index by default (each index
 * slows every write), or a flagged one with writeHeavyPolicy "warn".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adviseIndexes } from "../../../runner/indexes/advisor";
import { findPostgresBinaries } from "../../../runner/postgres/binaries";
import { startTestCluster, type TestCluster } from "../../support/postgres";
import { checkExtension, requireOrSkip } from "../../support/tools";

const ready = requireOrSkip(checkExtension("hypopg", findPostgresBinaries().sharedir(), "apt-get install postgresql-15-hypopg"), "write-heavy advice");
const QUERY = "select * from readings where sensor_id = $1";

describe.skipIf(!ready)("write-heavy tables", () => {
  let pg: TestCluster;

  beforeAll(async () => {
    pg = await startTestCluster();
    await pg.query("create table readings (id bigserial primary key, sensor_id int not null, value float8 not null)");
    // 40,000 rows written, a dozen reads: 3,000+ rows written per scan.
    await pg.query("insert into readings (sensor_id, value) select i % 2000, random() from generate_series(1, 40000) i");
    await pg.query("analyze readings");
    for (let i = 0; i < 12; i++) await pg.query(QUERY, [i]);
  });
  afterAll(async () => pg?.destroy());

  it("skips them by default and says why, with the numbers", async () => {
    const advice = await adviseIndexes(pg.url());
    expect(advice.recommendations).toEqual([]);
    expect(advice.skippedTables).toEqual([
      { table: "public.readings", reason: expect.stringMatching(/^write-heavy: 40000 rows written vs 1\d scans .* > writeHeavyRatio 1\); set writeHeavyPolicy=warn/) },
    ]);
    const q = advice.queries.find((x) => x.query === QUERY)!;
    expect(q.decision).toBe("no_index");
    expect(q.reason).toMatch(/its table is write-heavy and was skipped \(public\.readings/);
  });

  it("with writeHeavyPolicy warn, recommends the index and flags the write cost, with its estimated size", async () => {
    const advice = await adviseIndexes(pg.url(), { thresholds: { writeHeavyPolicy: "warn" } });
    expect(advice.recommendations).toHaveLength(1);
    const rec = advice.recommendations[0]!;
    expect(rec.name).toBe("pg2une_readings_sensor_id");
    expect(rec.writeHeavy?.warning).toMatch(/every index slows its writes/);
    expect(rec.estimatedSizeBytes).toBeGreaterThan(400_000);
  });
});
