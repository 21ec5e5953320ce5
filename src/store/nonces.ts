/**
 * The Worker's NonceStore (src/protocol/nonce-store.ts) for signed pushes to /api/ingest, in
 * pg2une's database. Worker isolates share no memory, so an in-memory store would let a replay
 * through whenever it lands on another isolate; the database is shared by all of them, ingest
 * already needs it, and its primary key makes "not seen yet → remember" one atomic statement.
 * (A target's Durable Object could hold them too, but the nonce is checked before the body is
 * read, so before the target is known.)
 *
 * @example
 *   const nonces = databaseNonceStore(db);
 *   const v = await verifySignedRequest({ method, path, headers, body, keys, nonces });
 *   // cron: await pruneExpiredNonces(db, new Date());
 */
import { lt, sql } from "drizzle-orm";
import type { NonceStore } from "../protocol";
import type { Db } from "./db";
import { seenNonces } from "./schema";

export function databaseNonceStore(db: Db): NonceStore {
  return {
    async remember(nonce, expiresAtSeconds, nowSeconds) {
      // A row whose expiry passed may be taken over: that nonce could no longer pass verification anyway.
      const rows = await db
        .insert(seenNonces)
        .values({ nonce, expiresAt: new Date(expiresAtSeconds * 1000) })
        .onConflictDoUpdate({
          target: seenNonces.nonce,
          set: { expiresAt: new Date(expiresAtSeconds * 1000), createdAt: sql`now()` },
          setWhere: lt(seenNonces.expiresAt, new Date(nowSeconds * 1000)),
        })
        .returning({ nonce: seenNonces.nonce });
      return rows.length === 1;
    },
  };
}

/** Deletes nonces that expired before `now`; returns how many. */
export async function pruneExpiredNonces(db: Db, now: Date): Promise<number> {
  const removed = await db.delete(seenNonces).where(lt(seenNonces.expiresAt, now)).returning({ nonce: seenNonces.nonce });
  return removed.length;
}
