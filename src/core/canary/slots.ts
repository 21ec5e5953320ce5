/**
 * How PgBouncer's read-only entry splits traffic: its host list has N slots, k = round(p·N) of
 * them the canary, spread evenly through the list so consecutive new server connections
 * alternate between nodes instead of landing in one block.
 *
 * Why slots: PgBouncer (1.17+) opens server connections to the hosts of a multi-host entry in
 * turn. With `min_pool_size = default_pool_size = N` the pool holds exactly one connection per
 * slot, and `server_round_robin = 1` spreads queries evenly over those connections, so the
 * canary's share of queries is k/N.
 *
 * @example
 *   canarySlots(25).filter((s) => s === "canary").length; // 5 of 20
 */

/** Slots in the read-only host list; 20 gives 5 % steps. */
export const DEFAULT_SLOT_COUNT = 20;

export type SlotNode = "primary" | "canary";

export class CanaryPercentError extends Error {
  override name = "CanaryPercentError";
}

/** k = round(p·N): how many of `slotCount` slots go to the canary for `canaryPct` percent. */
export function canarySlotCount(canaryPct: number, slotCount = DEFAULT_SLOT_COUNT): number {
  if (!Number.isFinite(canaryPct) || canaryPct < 0 || canaryPct > 100) {
    throw new CanaryPercentError(`canary_pct must be a number from 0 to 100, got ${canaryPct}`);
  }
  if (!Number.isInteger(slotCount) || slotCount < 1) {
    throw new CanaryPercentError(`slot count must be a positive integer, got ${slotCount}`);
  }
  return Math.round((canaryPct / 100) * slotCount);
}

/**
 * The slot list: slot i is the canary when the running count ⌊(i+1)·k/N⌋ steps up there
 * (Bresenham), so the k canary slots sit about N/k apart.
 */
export function canarySlots(canaryPct: number, slotCount = DEFAULT_SLOT_COUNT): SlotNode[] {
  const k = canarySlotCount(canaryPct, slotCount);
  return Array.from({ length: slotCount }, (_, i) =>
    Math.floor(((i + 1) * k) / slotCount) > Math.floor((i * k) / slotCount) ? "canary" : "primary",
  );
}

/** The share of queries the slot layout is designed to send to the canary (k/N, 0..1). */
export function plannedCanaryShare(canaryPct: number, slotCount = DEFAULT_SLOT_COUNT): number {
  return canarySlotCount(canaryPct, slotCount) / slotCount;
}
